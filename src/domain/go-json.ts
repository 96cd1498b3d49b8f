// flanneld decodes JSON with Go's encoding/json, which matches object keys to struct fields
// case-insensitively (an exact match wins). Reading fields the same way keeps us in step with it.

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value Go would decode into field `name`, and the key it came from. */
export function goField(
  object: JsonObject,
  name: string,
): { key: string; value: unknown } | undefined {
  if (Object.hasOwn(object, name)) return { key: name, value: object[name] };

  const lower = name.toLowerCase();
  for (const key of Object.keys(object)) {
    if (key.toLowerCase() === lower) return { key, value: object[key] };
  }

  return undefined;
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; reason: string };

export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `not valid JSON (${(error as Error).message})` };
  }
}
