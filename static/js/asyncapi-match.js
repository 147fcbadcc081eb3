// Which message of an API's AsyncAPI contract a received WebSocket message is (no build step).
//
// A simple structural match against each payload schema the client may receive: JSON text is
// parsed (other text is matched as a string); then `type`, `const`, `enum`, `required`
// properties, the schemas of the properties present, array `items`, and oneOf/anyOf/allOf are
// checked. Not checked: pattern, format, lengths, ranges, additionalProperties and the rest.

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => deepEqual(a[k], b[k]));
}

function typeOk(type, value) {
  switch (type) {
    case "string": return typeof value === "string";
    case "number": return typeof value === "number";
    case "integer": return Number.isInteger(value);
    case "boolean": return typeof value === "boolean";
    case "null": return value === null;
    case "array": return Array.isArray(value);
    case "object": return typeof value === "object" && value !== null && !Array.isArray(value);
    default: return true;
  }
}

export function matches(schema, value, depth = 0) {
  if (schema === true || schema === undefined || depth > 20) return true;
  if (schema === false || typeof schema !== "object" || schema === null) return schema !== false;
  if ("x-portico-recursive" in schema) return true;
  if ("const" in schema && !deepEqual(schema.const, value)) return false;
  if (Array.isArray(schema.enum) && !schema.enum.some((v) => deepEqual(v, value))) return false;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeOk(t, value))) return false;
  }
  const isObject = typeOk("object", value);
  if (isObject) {
    for (const name of schema.required || []) if (!(name in value)) return false;
    for (const [name, sub] of Object.entries(schema.properties || {})) {
      if (name in value && !matches(sub, value[name], depth + 1)) return false;
    }
  } else if ((schema.required || []).length && schema.type === undefined) {
    return false; // required properties imply an object
  }
  if (Array.isArray(value) && schema.items && typeof schema.items === "object") {
    if (!value.slice(0, 100).every((v) => matches(schema.items, v, depth + 1))) return false;
  }
  if (Array.isArray(schema.allOf) && !schema.allOf.every((s) => matches(s, value, depth + 1))) return false;
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => matches(s, value, depth + 1))) return false;
  if (Array.isArray(schema.oneOf) && !schema.oneOf.some((s) => matches(s, value, depth + 1))) return false;
  return true;
}

// The names of the contract's receivable messages that `text` matches.
export function matchReceived(receivable, text) {
  let value = text;
  try {
    value = JSON.parse(text);
  } catch (err) {
    /* not JSON: match the text as a string */
  }
  return receivable.filter((m) => matches(m.schema, value)).map((m) => m.name);
}

// The contract data a page put beside the console (templates/includes/ws_console.html).
export function contractOf(root) {
  const script = root.querySelector('script[type="application/json"]');
  if (!script) return { examples: [], receive: [] };
  try {
    return JSON.parse(script.textContent);
  } catch (err) {
    return { examples: [], receive: [] };
  }
}
