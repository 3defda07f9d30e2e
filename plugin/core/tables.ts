// The plugin's tables in the ERP's database (created by migrations/, which keep their own
// literal names: a migration describes the schema as it was on the day it was written).
export const Table = {
  outbox: "zenflow_outbox",
  inbox: "zenflow_inbox",
  eventLog: "zenflow_event_log",
  seenEvents: "zenflow_seen_events",
  idMap: "zenflow_id_map",
  history: "zenflow_history",
  requests: "zenflow_requests",
  budget: "zenflow_budget",
  leases: "zenflow_leases",
  state: "zenflow_state",
} as const;
export type TableName = (typeof Table)[keyof typeof Table];
