// The config screen generated from the manifest's JSON Schema (contract section 1: one input
// per property; title, description, default, enum, minimum/maximum honoured; writeOnly
// properties masked and never sent back), and the reverse: form fields → typed values.
import type { JsonObject, SchemaNode } from "./config-schema";
import { esc } from "./html";

function kindOf(prop: SchemaNode): "secret" | "enum" | "number" | "boolean" | "list" | "json" | "text" {
  if (prop.writeOnly === true) return "secret";
  if (Array.isArray(prop.enum)) return "enum";
  if (prop.type === "integer" || prop.type === "number") return "number";
  if (prop.type === "boolean") return "boolean";
  if (prop.type === "array") return "list";
  if (prop.type === "object") return "json";
  return "text";
}

export function renderFields(properties: [string, SchemaNode][], values: JsonObject, secretsSet: Record<string, boolean>): string {
  return properties
    .map(([name, prop]) => {
      const id = `f-${esc(name)}`;
      const title = esc(prop.title ?? name);
      const hint = prop.description ? `<p class="hint">${esc(prop.description)}</p>` : "";
      const v = values[name];
      let input: string;
      switch (kindOf(prop)) {
        case "secret":
          input = `<input type="password" id="${id}" name="${esc(name)}" autocomplete="new-password" placeholder="${
            secretsSet[name] ? "saved — leave blank to keep" : "not set"
          }">`;
          break;
        case "enum":
          input = `<select id="${id}" name="${esc(name)}">${(prop.enum as unknown[])
            .map((o) => `<option${o === v ? " selected" : ""}>${esc(o)}</option>`)
            .join("")}</select>`;
          break;
        case "number": {
          const min = typeof prop.minimum === "number" ? ` min="${prop.minimum}"` : "";
          const max = typeof prop.maximum === "number" ? ` max="${prop.maximum}"` : "";
          input = `<input type="number" id="${id}" name="${esc(name)}" value="${esc(v)}"${min}${max}>`;
          break;
        }
        case "boolean":
          input = `<input type="hidden" name="${esc(name)}" value="false"><input type="checkbox" id="${id}" name="${esc(name)}" value="true"${v === true ? " checked" : ""}>`;
          break;
        case "list":
          input = `<textarea id="${id}" name="${esc(name)}">${esc(Array.isArray(v) ? v.join("\n") : "")}</textarea><p class="hint">One per line.</p>`;
          break;
        case "json":
          input = `<textarea id="${id}" name="${esc(name)}">${esc(JSON.stringify(v ?? {}, null, 2))}</textarea>`;
          break;
        default:
          input = `<input type="text" id="${id}" name="${esc(name)}" value="${esc(v)}">`;
      }
      return `<label for="${id}">${title}</label>${hint}${input}`;
    })
    .join("\n");
}

/** Form fields → values of the schema's types; what cannot be read is reported by name. */
export function readFields(properties: [string, SchemaNode][], form: Record<string, unknown>): { values: JsonObject; errors: string[] } {
  const values: JsonObject = {};
  const errors: string[] = [];
  for (const [name, prop] of properties) {
    let raw = form[name];
    if (Array.isArray(raw)) raw = raw[raw.length - 1];
    if (typeof raw !== "string") continue;
    const text = raw.trim();
    const title = String(prop.title ?? name);
    switch (kindOf(prop)) {
      case "secret":
        if (text) values[name] = text;
        break;
      case "number":
        if (text === "") values[name] = null;
        else if (Number.isFinite(Number(text))) values[name] = Number(text);
        else errors.push(`${title}: must be a number`);
        break;
      case "boolean":
        values[name] = text === "true";
        break;
      case "list":
        values[name] = text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
        break;
      case "json":
        try {
          values[name] = text ? (JSON.parse(text) as unknown) : {};
        } catch {
          errors.push(`${title}: must be JSON, e.g. {"key": "value"}`);
        }
        break;
      default:
        values[name] = text === "" && prop.default === undefined ? null : text;
    }
  }
  return { values, errors };
}
