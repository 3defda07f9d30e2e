// @zenflow-erp/vendure-plugin: the ZenFlow warehouse sync as a Vendure plugin.
export { ZenflowPlugin } from "./zenflow-plugin";
export type { ZenflowPluginInitOptions, ZenflowSettings } from "./options";
export { zenflowAdminPermission } from "./admin-auth";
export { zenflowOrderProcess } from "./order-process";
export { ZENFLOW_FULFILLMENT_HANDLER } from "./fulfillment-handler";
export { VENDURE_CONFIG_DEFAULTS } from "./vendure-defaults";
