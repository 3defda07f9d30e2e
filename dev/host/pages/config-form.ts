// The config screen generated from the manifest's JSON Schema (contract section 1): one
// input per property in schema order. Secrets (writeOnly) are password inputs that are never
// filled with the saved value.
import { isObject, properties, redact, type JsonObject, type SchemaNode } from "../config-schema";
import { html, type Html } from "./html";

const FIELD_PREFIX = "c.";

/** The JSON type an input is built for: the first non-null entry when `type` is a list. */
export function inputType(prop: SchemaNode): string {
  const t = prop.type;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) return String(t.find((x) => x !== "null") ?? "string");
  if (isObject(prop.properties)) return "object";
  return "string";
}

function requiredSet(schema: SchemaNode): Set<string> {
  return new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === "string") : []);
}

function asText(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : String(v);
}

export interface FormState {
  /** Values to show: the saved ones, or the ones just submitted when saving failed. Never secrets. */
  values: JsonObject;
  /** Top-level writeOnly properties that have a saved value. */
  savedSecrets: Set<string>;
}

export function renderConfigFields(schema: SchemaNode, state: FormState): Html[] {
  const required = requiredSet(schema);
  const shown = redact(schema, state.values);
  return properties(schema).map(([name, prop]) => {
    const id = `f-${name}`;
    const field = FIELD_PREFIX + name;
    const label = typeof prop.title === "string" ? prop.title : name;
    const type = inputType(prop);
    const value = shown[name];
    const hasDefault = "default" in prop;
    const defaultText = hasDefault ? (typeof prop.default === "string" ? prop.default : JSON.stringify(prop.default)) : "";
    const help: Html[] = [];
    if (typeof prop.description === "string") help.push(html`<p class="help">${prop.description}</p>`);
    if (hasDefault && prop.writeOnly !== true) help.push(html`<p class="help">Default: <code>${defaultText}</code></p>`);
    const mark = required.has(name) ? html` <span title="required">*</span>` : html``;
    let input: Html;
    if (prop.writeOnly === true) {
      // The saved secret never leaves the server; blank keeps it.
      const saved = state.savedSecrets.has(name);
      input = html`<input type="password" id="${id}" name="${field}" value="" autocomplete="new-password" placeholder="${saved ? "•••• saved" : "not set"}" />
        ${saved ? html`<p class="help">•••• saved — leave blank to keep the saved value.</p>` : html``}`;
    } else if (Array.isArray(prop.enum)) {
      const current = value === undefined ? undefined : JSON.stringify(value);
      const options = prop.enum.map((opt) => {
        const selected = current !== undefined && JSON.stringify(opt) === current;
        return html`<option value="${asText(opt)}"${selected ? html` selected` : html``}>${asText(opt)}</option>`;
      });
      const blankLabel = hasDefault ? `(default: ${defaultText})` : "(not set)";
      input = html`<select id="${id}" name="${field}">
        <option value=""${current === undefined ? html` selected` : html``}>${blankLabel}</option>
        ${options}
      </select>`;
    } else if (type === "boolean") {
      const checked = value === undefined ? prop.default === true : value === true;
      input = html`<input type="checkbox" id="${id}" name="${field}" value="true"${checked ? html` checked` : html``} />`;
    } else if (type === "integer" || type === "number") {
      const min = typeof prop.minimum === "number" ? html` min="${prop.minimum}"` : html``;
      const max = typeof prop.maximum === "number" ? html` max="${prop.maximum}"` : html``;
      const step = type === "integer" ? "1" : "any";
      input = html`<input type="number" id="${id}" name="${field}" step="${step}"${min}${max} value="${asText(value)}" placeholder="${defaultText}" />`;
    } else if (type === "object" || type === "array") {
      const text = value === undefined ? "" : JSON.stringify(value, null, 2);
      input = html`<textarea id="${id}" name="${field}" placeholder="${defaultText}">${text}</textarea>
        <p class="help">JSON ${type}.</p>`;
    } else {
      input = html`<input type="text" id="${id}" name="${field}" value="${asText(value)}" placeholder="${defaultText}" />`;
    }
    return html`<div class="field"><label for="${id}">${label}${mark}</label>${help}${input}</div>`;
  });
}

/**
 * Turns a submitted form into config values. Blank fields are left out, so that the schema
 * default applies (and a blank secret keeps the saved one). Values that do not parse are
 * passed on as typed, and the schema validation reports them.
 */
export function parseConfigForm(schema: SchemaNode, body: Record<string, unknown>): { values: JsonObject; errors: string[] } {
  const values: JsonObject = {};
  const errors: string[] = [];
  for (const [name, prop] of properties(schema)) {
    const rawValue = body[FIELD_PREFIX + name];
    const raw = Array.isArray(rawValue) ? rawValue[rawValue.length - 1] : rawValue;
    const type = inputType(prop);
    if (type === "boolean" && !Array.isArray(prop.enum)) {
      values[name] = raw !== undefined && raw !== "" && raw !== "false";
      continue;
    }
    if (typeof raw !== "string" || raw.trim() === "") continue;
    if (Array.isArray(prop.enum)) {
      const match = prop.enum.find((opt) => asText(opt) === raw);
      values[name] = match === undefined ? raw : match;
    } else if (type === "integer" || type === "number") {
      const n = Number(raw.trim());
      values[name] = Number.isNaN(n) ? raw : n;
    } else if (type === "object" || type === "array") {
      try {
        values[name] = JSON.parse(raw) as unknown;
      } catch {
        errors.push(`${name}: not valid JSON`);
      }
    } else {
      values[name] = raw;
    }
  }
  return { values, errors };
}
