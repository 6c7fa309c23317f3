// Log text of the values given to context.log / context.error (and captured console calls).
//
// Strings are written as they are, other primitives with String(), Errors as their stack, and
// everything else as JSON text that also covers what JSON.stringify loses or refuses (the
// way open-runtimes' superjson-based logger reads): BigInt 10n -> 10, Map -> an object of its
// entries (an array of [key, value] pairs when a key is not a string), Set and typed arrays ->
// arrays, URL -> its href, Date -> its ISO text, RegExp -> "/a/g", Error -> {name, message,
// ...own properties}, functions -> "[Function: name]", a circular reference -> "[Circular]".
// An object with its own toJSON() (Decimal, Mongoose documents, ...) is written as that
// result. Writing stops once the text is past `limit` characters, since the logger cuts there.

import { types } from "node:util";

class Enough extends Error {}

const MAX_DEPTH = 64;

function describeFunction(fn) {
  return `[Function: ${fn.name || "anonymous"}]`;
}

class Writer {
  constructor(limit) {
    this.parts = [];
    this.length = 0;
    this.limit = limit;
    this.ancestors = [];
  }

  put(text) {
    this.parts.push(text);
    this.length += text.length;
    if (this.length > this.limit) {
      throw new Enough();
    }
  }

  string(text) {
    this.put(JSON.stringify(text));
  }

  // In objects, JSON leaves out undefined (and so do we); in arrays it writes null.
  skipped(value) {
    return value === undefined;
  }

  value(value, depth) {
    switch (typeof value) {
      case "string":
        return this.string(value);
      case "number":
        return Number.isFinite(value)
          ? this.put(Object.is(value, -0) ? "0" : String(value))
          : this.string(String(value));
      case "bigint":
        return this.put(value.toString());
      case "boolean":
        return this.put(value ? "true" : "false");
      case "undefined":
        return this.put("null");
      case "symbol":
        return this.string(value.toString());
      case "function":
        return this.string(describeFunction(value));
      default:
        break;
    }
    if (value === null) {
      return this.put("null");
    }
    if (this.ancestors.includes(value)) {
      return this.string("[Circular]");
    }
    if (depth >= MAX_DEPTH) {
      return this.string("[Too deep]");
    }
    this.ancestors.push(value);
    try {
      this.object(value, depth + 1);
    } finally {
      this.ancestors.pop();
    }
  }

  object(value, depth) {
    if (value instanceof URL) {
      return this.string(value.href);
    }
    if (value instanceof URLSearchParams) {
      return this.string(value.toString());
    }
    if (types.isDate(value)) {
      return this.string(Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString());
    }
    if (types.isRegExp(value)) {
      return this.string(value.toString());
    }
    if (types.isBoxedPrimitive(value)) {
      return this.value(value.valueOf(), depth);
    }
    if (types.isNativeError(value) || value instanceof Error) {
      return this.error(value, depth);
    }
    if (types.isMap(value)) {
      return this.map(value, depth);
    }
    if (types.isSet(value)) {
      return this.array(Array.from(value), depth);
    }
    if (Array.isArray(value)) {
      return this.array(value, depth);
    }
    if (types.isAnyArrayBuffer(value)) {
      return this.array(Array.from(new Uint8Array(value)), depth);
    }
    if (ArrayBuffer.isView(value)) {
      // Buffers, typed arrays and DataViews: their numbers (BigInt64Array gives BigInts).
      const view =
        value instanceof DataView
          ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
          : value;
      return this.array(Array.from(view), depth);
    }
    if (types.isPromise(value)) {
      return this.string("[Promise]");
    }
    if (types.isWeakMap(value) || types.isWeakSet(value)) {
      return this.string(types.isWeakMap(value) ? "[WeakMap]" : "[WeakSet]");
    }
    if (typeof value.toJSON === "function") {
      let converted;
      try {
        converted = value.toJSON();
      } catch (error) {
        return this.string(`[toJSON threw: ${error && error.message}]`);
      }
      if (converted !== value) {
        return this.value(converted, depth);
      }
    }
    return this.entries(Object.keys(value), (key) => value[key], depth);
  }

  error(error, depth) {
    const fields = { name: error.name, message: error.message };
    for (const key of Object.keys(error)) {
      fields[key] = error[key];
    }
    if (error.cause !== undefined) {
      fields.cause = error.cause;
    }
    return this.entries(Object.keys(fields), (key) => fields[key], depth);
  }

  map(map, depth) {
    const keys = Array.from(map.keys());
    if (keys.every((key) => typeof key === "string")) {
      return this.entries(keys, (key) => map.get(key), depth);
    }
    return this.array(
      Array.from(map.entries(), ([key, item]) => [key, item]),
      depth,
    );
  }

  array(items, depth) {
    this.put("[");
    for (let index = 0; index < items.length; index++) {
      if (index > 0) {
        this.put(",");
      }
      this.value(this.read(() => items[index]), depth);
    }
    this.put("]");
  }

  entries(keys, get, depth) {
    this.put("{");
    let first = true;
    for (const key of keys) {
      const item = this.read(() => get(key));
      if (this.skipped(item)) {
        continue;
      }
      if (!first) {
        this.put(",");
      }
      first = false;
      this.string(key);
      this.put(":");
      this.value(item, depth);
    }
    this.put("}");
  }

  // A getter that throws must not lose the whole log line.
  read(get) {
    try {
      return get();
    } catch (error) {
      return `[Getter threw: ${error && error.message}]`;
    }
  }
}

function toJsonText(value, limit = Infinity) {
  const writer = new Writer(limit);
  try {
    writer.value(value, 0);
  } catch (error) {
    if (!(error instanceof Enough)) {
      throw error;
    }
  }
  return writer.parts.join("");
}

function formatOne(message, limit = Infinity) {
  if (typeof message === "string") {
    return message;
  }
  if (message instanceof Error) {
    return String(message.stack || message);
  }
  if (message === null || (typeof message !== "object" && typeof message !== "function")) {
    return String(message);
  }
  try {
    return toJsonText(message, limit);
  } catch {
    try {
      return String(message);
    } catch {
      return Object.prototype.toString.call(message);
    }
  }
}

export { formatOne, toJsonText };
