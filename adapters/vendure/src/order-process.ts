// Two order states for the warehouse's progress, so ZenFlow's "In Progress" and "Packed" can
// show in Vendure: PaymentSettled → Picking → Packed → (Partially)Shipped/Delivered. Both can
// still be cancelled or modified, like PaymentSettled. Merged into the default process.
import type { OrderProcess } from "@vendure/core";

declare module "@vendure/core" {
  interface CustomOrderStates {
    Picking: never;
    Packed: never;
  }
}

const ONWARD = ["PartiallyShipped", "Shipped", "PartiallyDelivered", "Delivered", "Cancelled", "Modifying"] as const;

export const zenflowOrderProcess: OrderProcess<"Picking" | "Packed"> = {
  transitions: {
    PaymentSettled: { to: ["Picking", "Packed"], mergeStrategy: "merge" },
    Picking: { to: ["Packed", ...ONWARD] },
    Packed: { to: [...ONWARD] },
  },
};
