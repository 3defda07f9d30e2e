// Where Vendure differs from a generic ERP: its order states. Eligible for the warehouse are
// orders whose payment is settled (shops that capture on shipment add "PaymentAuthorized");
// ZenFlow's states map onto Vendure's order process plus the two states order-process.ts adds.
export const VENDURE_CONFIG_DEFAULTS: Record<string, unknown> = {
  eligibleStatuses: ["PaymentSettled"],
  statusMap: {
    Pending: "PaymentSettled",
    "In Progress": "Picking",
    Packed: "Packed",
    Completed: "Shipped",
    Cancelled: "Cancelled",
  },
};
