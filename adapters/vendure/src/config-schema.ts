// The manifest's config JSON Schema (draft 2020-12), applied as the contract says a host
// applies it: validation before saving, `default`s filled in, `writeOnly` properties secret.
import Ajv2020 from "ajv/dist/2020";

export type JsonObject = Record<string, unknown>;
export type SchemaNode = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, logger: false });
  // The formats the config screen uses; others stay annotations, as draft 2020-12 allows.
  ajv.addFormat("uri", (s: string) => {
    try {
      return Boolean(new URL(s).protocol);
    } catch {
      return false;
    }
  });
  ajv.addFormat("email", /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  return ajv;
}

export interface ConfigSchema {
  /** Problems in the admin's words, naming properties and never echoing values. */
  validate(values: unknown): string[];
  withDefaults(values: JsonObject): JsonObject;
  /** Top-level property names marked writeOnly. */
  secrets: string[];
  properties: [string, SchemaNode][];
}

export function compileConfigSchema(schema: SchemaNode): ConfigSchema {
  const check = newAjv().compile(schema);
  const properties = Object.entries(isObject(schema.properties) ? schema.properties : {}).filter((e): e is [string, SchemaNode] =>
    isObject(e[1]),
  );
  return {
    properties,
    secrets: properties.filter(([, p]) => p.writeOnly === true).map(([name]) => name),
    validate(values) {
      if (check(values)) return [];
      return (check.errors ?? []).map((e) => {
        const params = e.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown };
        const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : "";
        if (e.keyword === "required" && params.missingProperty) return `${params.missingProperty}: is required`;
        if (e.keyword === "additionalProperties") return `unknown setting "${params.additionalProperty}"`;
        if (e.keyword === "enum") return `${where}: must be one of ${JSON.stringify(params.allowedValues)}`;
        return `${where || "config"}: ${e.message ?? e.keyword}`;
      });
    },
    withDefaults(values) {
      const out: JsonObject = { ...values };
      for (const [name, prop] of properties) {
        if (out[name] === undefined && "default" in prop) out[name] = structuredClone(prop.default);
      }
      return out;
    },
  };
}
