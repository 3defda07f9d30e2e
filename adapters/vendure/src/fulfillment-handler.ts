// The fulfilment handler behind markShipped: Vendure fulfilments made by the warehouse carry
// handlerCode "zenflow", the carrier as method and ZenFlow's tracking number.
import { FulfillmentHandler, LanguageCode } from "@vendure/core";

export const ZENFLOW_FULFILLMENT_HANDLER = new FulfillmentHandler({
  code: "zenflow",
  description: [{ languageCode: LanguageCode.en, value: "Shipped by the ZenFlow warehouse" }],
  args: {
    method: { type: "string", required: false },
    trackingCode: { type: "string", required: false },
  },
  createFulfillment: (_ctx, _orders, _lines, args) => ({
    method: args.method || "ZenFlow",
    trackingCode: args.trackingCode ?? "",
  }),
});
