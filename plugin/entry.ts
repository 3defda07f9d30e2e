// The module manifest.json `main` points at. The plugin object is both `module.exports`
// and its `default`, so hosts that `require()` it, `import()` it (ESM → default is
// module.exports) or read `.default` all get the same object. `createZenflowPlugin` is
// there for platform adapters that run their own instance (e.g. with test tuning).
import { createZenflowPlugin } from "./index";
import { tuningFromEnv } from "./core/tuning";

const { tuning, warning } = tuningFromEnv(process.env.ZENFLOW_TUNING);
const plugin = createZenflowPlugin({ ...tuning, startupWarning: warning ?? undefined });
export = Object.assign(plugin, { default: plugin, createZenflowPlugin });
