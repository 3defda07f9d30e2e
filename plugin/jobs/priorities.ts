// One priority scale, lower first, for everything that waits its turn: queued jobs (the
// `priority` column of the outbox and inbox) and requests waiting for the limiter. Orders
// go first, then cancellations, then stock, then products; bulk and background work last,
// and reports that change nothing (the stock drift report) after everything else.
export const Priority = {
  order: 1,
  cancel: 2,
  webhookSetup: 3,
  stock: 4,
  product: 5,
  reconcile: 6,
  import: 7,
  backstop: 8,
  report: 9,
} as const;
export type PriorityValue = (typeof Priority)[keyof typeof Priority];
