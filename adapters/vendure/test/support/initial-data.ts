// A small shop for the adapter tests: two countries, no tax (prices are what the customer
// pays), one shipping method and a payment method that settles at once.
import { dummyPaymentHandler, LanguageCode } from "@vendure/core";
import type { InitialData } from "@vendure/core";

export const initialData: InitialData = {
  defaultLanguage: LanguageCode.en,
  defaultZone: "Americas",
  taxRates: [{ name: "Standard Tax", percentage: 0 }],
  shippingMethods: [{ name: "Standard Shipping", price: 500 }],
  paymentMethods: [
    { name: "Test payment", handler: { code: dummyPaymentHandler.code, arguments: [{ name: "automaticSettle", value: "true" }] } },
  ],
  countries: [
    { name: "Argentina", code: "AR", zone: "Americas" },
    { name: "United States of America", code: "US", zone: "Americas" },
  ],
  collections: [],
};
