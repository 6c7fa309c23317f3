// One Open Runtimes v5 request, from the web `Request` of the runtime's own HTTP server to the
// `Response` it sends: the secret and timeout checks, the body (20 MB at most), the user's
// function (loaded once, at the first request that finds it valid; an entrypoint that cannot
// serve answers 503 with one of open-runtimes' "safe entrypoint" messages), the soft timeout,
// and the normalised response. Runtime-neutral (Bun and Deno keep identical copies); the
// listening part is server.js.

import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { Logger, buildContext, currentLogger } from "./context.js";

export const USER_CODE_PATH = "/usr/local/server/src/function";
export const MAX_BODY = 20 * 1024 * 1024;
const TEXT_PLAIN = "text/plain; charset=utf-8";
const TIMEOUT_ERROR = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.';
const SECRET_ERROR = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.';
const RETURN_MISSING =
  "Return statement missing. return context.res.empty() if no response is expected.";
const SIGNATURE_INVALID =
  "Function signature invalid. Did you forget to export a 'main' function?";
const SKIPPED_HEADERS = new Set(["content-length", "transfer-encoding", "connection"]);
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
// Parse failures of a module: SyntaxError in both runtimes; Bun also reports them as a
// BuildMessage (or an AggregateError of them).
const SYNTAX_ERRORS = new Set(["SyntaxError", "BuildMessage", "BuildError"]);

export const config = {
  secret: process.env.OPEN_RUNTIMES_SECRET || "",
  entrypoint: process.env.OPEN_RUNTIMES_ENTRYPOINT || "",
  logsDir: process.env.OPEN_RUNTIMES_LOGS_DIR || "/mnt/logs",
  development: process.env.OPEN_RUNTIMES_ENV === "development",
  forcedHeaders: JSON.parse(process.env.OPEN_RUNTIMES_HEADERS || "{}"),
};

export class BodyTooLarge extends Error {}

function plain(status, text, headers = {}) {
  return new Response(text, { status, headers: { "content-type": TEXT_PLAIN, ...headers } });
}

// The request target (path and query) as received: `request.url` without its origin. Both
// servers build that URL by concatenation, the origin from the Host header (or the socket
// path), so a Host holding a "/" is cut off by name before falling back to the first "/".
export function requestTarget(url, hostHeader) {
  const scheme = url.indexOf("://");
  const authority = scheme === -1 ? 0 : scheme + 3;
  if (hostHeader && url.startsWith(hostHeader, authority)) {
    const rest = url.slice(authority + hostHeader.length);
    if (rest.startsWith("/")) {
      return rest;
    }
  }
  const slash = url.indexOf("/", authority);
  return slash === -1 ? "/" : url.slice(slash);
}

// The body as an ArrayBuffer: read at once when its declared length is within the limit,
// else streamed and counted (chunked bodies).
async function readBody(request) {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared)) {
    if (+declared > MAX_BODY) {
      throw new BodyTooLarge(`Maximum request body size ${MAX_BODY} exceeded.`);
    }
    return await request.arrayBuffer();
  }
  if (!request.body) {
    return new ArrayBuffer(0);
  }
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(`Maximum request body size ${MAX_BODY} exceeded.`);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body.buffer;
}

// The entrypoint's function, kept once loaded (so module state persists while warm).
let userFunction = null;

class LoadError extends Error {}

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// Deno reports a parse failure as an error with this message, not a SyntaxError.
const DENO_PARSE_ERROR = "The module's source code could not be parsed: ";
const ANSI_CODES = /\u001b\[[0-9;]*m/g;

function isSyntaxError(error) {
  if (!error || typeof error !== "object") {
    return false;
  }
  if (SYNTAX_ERRORS.has(error.name) || error instanceof SyntaxError) {
    return true;
  }
  if (String(error.message ?? "").startsWith(DENO_PARSE_ERROR)) {
    return true;
  }
  const inner = Array.isArray(error.errors) ? error.errors : [];
  return inner.length > 0 && inner.every(isSyntaxError);
}

function describe(error) {
  if (!error || typeof error !== "object") {
    return String(error);
  }
  const inner = Array.isArray(error.errors) ? error.errors : [];
  const parts = inner.length > 0 ? inner.map(describe) : [String(error.message ?? error)];
  // Bun's build messages carry the place: file, line and column.
  const where = error.position;
  if (where && where.file && inner.length === 0) {
    parts[0] += `\n${where.file}:${where.line}:${where.column}`;
  }
  return parts.join("\n");
}

// The user's frames only, not the runtime's module loader nor this server.
function userFrames(error) {
  const stack = error instanceof Error && typeof error.stack === "string" ? error.stack : "";
  return stack
    .split("\n")
    .filter((line) => /^\s+at /.test(line) && line.includes(`${USER_CODE_PATH}/`));
}

// A load failure as one text: without colour codes, repeated lines or the code folder's path.
function loadFailure(prefix, text) {
  const lines = [];
  for (const line of `${prefix}${text}`.replace(ANSI_CODES, "").split("\n")) {
    if (!/^\s+at /.test(line) || !lines.includes(line)) {
      lines.push(line);
    }
  }
  const folder = `${USER_CODE_PATH}/`;
  return new LoadError(lines.join("\n").replaceAll(`file://${folder}`, "").replaceAll(folder, ""));
}

async function loadUserFunction() {
  if (userFunction !== null) {
    return userFunction;
  }
  const entrypoint = config.entrypoint;
  const file = path.join(USER_CODE_PATH, entrypoint);
  if (!entrypoint || !isFile(file)) {
    throw new LoadError(`Failed to load entrypoint, file ${entrypoint} does not exist.`);
  }
  let loaded;
  try {
    loaded = await import(pathToFileURL(file).href);
  } catch (e) {
    if (isSyntaxError(e)) {
      throw loadFailure(`Syntax error in ${entrypoint}: `, describe(e).replace(DENO_PARSE_ERROR, ""));
    }
    throw loadFailure("Failed to load module: ", [describe(e), ...userFrames(e)].join("\n"));
  }
  // `export default fn`, or (Bun) `module.exports = fn`, which import() gives as default.
  const candidate = loaded && loaded.default;
  if (typeof candidate !== "function") {
    throw new LoadError(SIGNATURE_INVALID);
  }
  userFunction = candidate;
  return userFunction;
}

async function runUserCode(context, timeout) {
  let timer = null;
  try {
    if (timeout === null) {
      return await userFunction(context);
    }
    const timedOut = Symbol("timeout");
    const expiry = new Promise((resolve) => {
      timer = setTimeout(() => resolve(timedOut), timeout * 1000);
    });
    const output = await Promise.race([(async () => userFunction(context))(), expiry]);
    if (output !== timedOut) {
      return output;
    }
    context.error("Execution timed out.");
  } catch (e) {
    context.error(e && e.stack ? e.stack : e);
  } finally {
    clearTimeout(timer);
  }
  return context.res.text("", 500, {});
}

// Loads the entrypoint (its top-level console output lands in this request's logs), then runs it.
async function serve(context, timeout) {
  try {
    await loadUserFunction();
  } catch (e) {
    if (!(e instanceof LoadError)) {
      throw e;
    }
    context.error(e.message);
    return context.res.text("", 503, {});
  }
  return await runUserCode(context, timeout);
}

// Bytes of what the function returned: bytes as they are, text as UTF-8, Blobs and streams
// read out, and any other object or number as JSON (as the Node runtime sends it).
async function toBytes(body) {
  if (body instanceof Uint8Array) {
    return body;
  }
  if (ArrayBuffer.isView(body)) {
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }
  if (body instanceof ArrayBuffer || body instanceof SharedArrayBuffer) {
    return new Uint8Array(body);
  }
  if (typeof body === "string") {
    return new TextEncoder().encode(body);
  }
  if (body instanceof Blob || body instanceof ReadableStream) {
    return new Uint8Array(await new Response(body).arrayBuffer());
  }
  if (typeof body === "object" || typeof body === "number") {
    return new TextEncoder().encode(JSON.stringify(body));
  }
  return new TextEncoder().encode(String(body));
}

function headerEntries(headers) {
  if (headers instanceof Headers || headers instanceof Map) {
    return Array.from(headers.entries());
  }
  return Object.entries(headers);
}

async function respond(output, logger) {
  const statusCode = output.statusCode ?? 200;
  const headers = new Headers();
  for (const [name, value] of headerEntries(output.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower.startsWith("x-open-runtimes-") || SKIPPED_HEADERS.has(lower)) {
      continue;
    }
    if (Array.isArray(value)) {
      headers.delete(lower);
      for (const item of value) {
        headers.append(lower, `${item}`);
      }
    } else {
      headers.set(lower, `${value}`);
    }
  }
  let contentType = `${headers.get("content-type") ?? "text/plain"}`.toLowerCase();
  if (!contentType.startsWith("multipart/") && !contentType.includes("charset=")) {
    contentType += "; charset=utf-8";
  }
  headers.set("content-type", contentType);
  headers.set("x-open-runtimes-log-id", logger.id);
  const body = NULL_BODY_STATUSES.has(statusCode) ? null : await toBytes(output.body ?? "");
  return new Response(body, { status: statusCode, headers });
}

async function action(logger, request, target) {
  const secret = request.headers.get("x-open-runtimes-secret") ?? "";
  if (config.secret && secret !== config.secret) {
    return plain(500, SECRET_ERROR);
  }
  const timeout = request.headers.get("x-open-runtimes-timeout") ?? "";
  if (timeout && (!/^\d+$/.test(timeout) || +timeout === 0)) {
    return plain(500, TIMEOUT_ERROR);
  }
  const bodyBinary = await readBody(request);
  const context = buildContext(request, target, bodyBinary, logger, config.forcedHeaders);
  let output = await currentLogger.run(logger, () => serve(context, timeout ? +timeout : null));
  if (output === null || output === undefined) {
    context.error(RETURN_MISSING);
    output = context.res.text("", 500, {});
  }
  return await respond(output, logger);
}

// One request to a Response (never throws).
export async function handle(request) {
  const target = requestTarget(request.url, request.headers.get("host"));
  const urlPath = target.split("?")[0];
  if (urlPath === "/__opr/health") {
    return plain(200, "OK");
  }
  if (urlPath === "/__opr/timings") {
    let timings = "";
    try {
      timings = fs.readFileSync("/mnt/telemetry/timings.txt", "utf8");
    } catch {
      // no timings recorded
    }
    return plain(200, timings);
  }
  const logger = new Logger(
    request.headers.get("x-open-runtimes-logging"),
    request.headers.get("x-open-runtimes-log-id"),
    config.logsDir,
    config.development,
  );
  try {
    return await action(logger, request, target);
  } catch (e) {
    if (e instanceof BodyTooLarge) {
      return plain(413, e.message, { connection: "close" });
    }
    logger.write([e], Logger.TYPE_ERROR);
    return plain(500, "", { "x-open-runtimes-log-id": logger.id });
  } finally {
    logger.end();
  }
}
