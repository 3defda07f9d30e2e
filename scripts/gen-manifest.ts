// Writes manifest.json from plugin/core/manifest.ts (run by `npm run build`).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildManifest } from "../plugin/core/manifest";

const root = join(__dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
writeFileSync(join(root, "manifest.json"), `${JSON.stringify(buildManifest(pkg.version), null, 2)}\n`);
console.log("manifest.json written");
