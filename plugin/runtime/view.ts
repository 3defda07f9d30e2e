// What tests and benchmarks may look at in a running plugin (ZenflowPlugin.runtime()): the
// activation's parts and the current engine. Production code takes narrow deps instead.
import type { ZenflowConfig } from "../core/config";
import type { Activation } from "./activation";
import type { Engine } from "./engine";

export interface RuntimeView {
  parts: Activation;
  engine: Engine | null;
  config: ZenflowConfig | null;
}
