// The manifest's config JSON Schema (draft 2020-12): validation, defaults, and the places of
// writeOnly secrets. Nested objects are followed through `properties`; secrets inside arrays
// are not supported (the config screen cannot mask them either).
import Ajv2020 from "ajv/dist/2020";
import type { ValidateFunction } from "ajv/dist/2020";

export type JsonObject = Record<string, unknown>;
export type SchemaNode = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, logger: false });
  // ajv-formats is not a dependency; these cover what config screens use. Other formats are
  // annotations only (as draft 2020-12 allows).
  ajv.addFormat("uri", (s: string) => {
    try {
      return Boolean(new URL(s).protocol);
    } catch {
      return false;
    }
  });
  ajv.addFormat("email", /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  ajv.addFormat("date", /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat("date-time", (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s)));
  return ajv;
}

/** Compiles the schema; throws with ajv's message when the schema itself is invalid. */
export function compileConfigSchema(schema: SchemaNode): (values: unknown) => string[] {
  const validate: ValidateFunction = newAjv().compile(schema);
  return (values) => {
    if (validate(values)) return [];
    return (validate.errors ?? []).map((e) => {
      const missing = (e.params as { missingProperty?: string }).missingProperty;
      const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : "";
      if (e.keyword === "required" && missing) return `${where ? `${where}.` : ""}${missing}: is required`;
      if (e.keyword === "additionalProperties") {
        return `${where || "config"}: unknown property "${(e.params as { additionalProperty?: string }).additionalProperty}"`;
      }
      if (e.keyword === "enum")
        return `${where}: must be one of ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`;
      return `${where || "config"}: ${e.message ?? e.keyword}`;
    });
  };
}

export function properties(schema: SchemaNode): [string, SchemaNode][] {
  const props = schema.properties;
  if (!isObject(props)) return [];
  return Object.entries(props).filter((e): e is [string, SchemaNode] => isObject(e[1]));
}

/**
 * Fills `default`s for properties that have no saved value (contract section 8), descending
 * into nested objects that exist or that get a default object.
 */
export function withDefaults(schema: SchemaNode, values: JsonObject): JsonObject {
  const out: JsonObject = { ...values };
  for (const [name, prop] of properties(schema)) {
    if (out[name] === undefined && "default" in prop) out[name] = structuredClone(prop.default);
    const v = out[name];
    if (isObject(v) && properties(prop).length > 0) out[name] = withDefaults(prop, v);
  }
  return out;
}

/** Paths (property names from the root) of every `writeOnly: true` property. */
export function secretPaths(schema: SchemaNode, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [name, prop] of properties(schema)) {
    const path = [...prefix, name];
    if (prop.writeOnly === true) out.push(path);
    else out.push(...secretPaths(prop, path));
  }
  return out;
}

export function getPath(obj: JsonObject, path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Sets a value, creating intermediate objects; returns a new top-level object. */
export function setPath(obj: JsonObject, path: string[], value: unknown): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return obj;
  if (rest.length === 0) return { ...obj, [head]: value };
  const child = isObject(obj[head]) ? (obj[head] as JsonObject) : {};
  return { ...obj, [head]: setPath(child, rest, value) };
}

export function deletePath(obj: JsonObject, path: string[]): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined || !(head in obj)) return obj;
  if (rest.length === 0) {
    const { [head]: _removed, ...others } = obj;
    return others;
  }
  const child = obj[head];
  return isObject(child) ? { ...obj, [head]: deletePath(child, rest) } : obj;
}

/** The values with every secret removed: what may be rendered or returned. */
export function redact(schema: SchemaNode, values: JsonObject): JsonObject {
  return secretPaths(schema).reduce((acc, p) => deletePath(acc, p), values);
}
