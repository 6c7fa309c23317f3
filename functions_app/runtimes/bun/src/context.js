// The Open Runtimes v5 `context` given to the function: req, res, log and error, plus the
// per-request logger and the capture of native console output. Built on the web `Request` of
// the runtime's own HTTP server and on `node:` built-ins only (the same file serves Bun and
// Deno; each runtime folder keeps its own copy).

import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { AsyncLocalStorage } from "node:async_hooks";
import { formatOne } from "./format.js";

const LOG_LIMIT = 8000;
const TRUNCATED = "... Log truncated due to size limit (8000 characters)";
const NATIVE_NOTICE =
  "Native logs detected. Use context.log() or context.error() for better experience.";
const LOG_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

// PHP uniqid-like: seconds and microseconds in hex, then random hex.
function generateId(padding = 7) {
  const now = Date.now();
  const seconds = Math.floor(now / 1000);
  const micros = (now % 1000) * 1000 + crypto.randomInt(1000);
  const random = crypto.randomBytes(4).toString("hex").slice(0, padding);
  return seconds.toString(16) + micros.toString(16).padStart(5, "0") + random;
}

function formatMessages(messages) {
  // Each message is written only up to just past the limit: the joined text is cut there.
  let text = messages.map((message) => formatOne(message, LOG_LIMIT)).join(" ");
  if (text.length > LOG_LIMIT) {
    text = text.substring(0, LOG_LIMIT) + TRUNCATED;
  }
  return text;
}

// Writes <id>_logs.log and <id>_errors.log. Files are opened on first write, so a request
// that logs nothing leaves nothing behind; writes are synchronous and in order.
export class Logger {
  static TYPE_LOG = "log";
  static TYPE_ERROR = "error";

  constructor(status, id, directory = "/mnt/logs", development = false) {
    this.enabled = (status ? status : "enabled") === "enabled";
    this.id = "";
    this.includesNativeInfo = false;
    this.directory = directory;
    this.fds = {};
    if (this.enabled) {
      if (id && LOG_ID_PATTERN.test(id)) {
        this.id = id;
      } else {
        this.id = development ? "dev" : generateId();
      }
    }
  }

  write(messages, type = Logger.TYPE_LOG, native = false) {
    if (!this.enabled) {
      return;
    }
    if (native && !this.includesNativeInfo) {
      this.includesNativeInfo = true;
      this.write([NATIVE_NOTICE]);
    }
    const text = formatMessages(messages) + "\n";
    try {
      fs.writeSync(this.fd(type === Logger.TYPE_ERROR ? "errors" : "logs"), text);
    } catch {
      // A failed log write must never fail the execution.
    }
  }

  fd(kind) {
    if (this.fds[kind] === undefined) {
      const file = path.join(this.directory, `${this.id}_${kind}.log`);
      this.fds[kind] = fs.openSync(file, "a");
    }
    return this.fds[kind];
  }

  end() {
    if (!this.enabled) {
      return;
    }
    this.enabled = false;
    for (const fd of Object.values(this.fds)) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
  }
}

// Native console capture: console methods are replaced once, at start-up, by wrappers that
// write to the logger of the request whose async context is running (AsyncLocalStorage), so
// concurrent requests never mix their output. Outside a request they print as usual.
export const currentLogger = new AsyncLocalStorage();

export function installNativeCapture() {
  for (const method of ["log", "info", "debug", "warn", "error"]) {
    const original = console[method].bind(console);
    console[method] = (...args) => {
      const logger = currentLogger.getStore();
      if (logger && logger.enabled) {
        logger.write(args, Logger.TYPE_LOG, true);
      } else {
        original(...args);
      }
    };
  }
}

function parseQuery(queryString) {
  const query = {};
  for (const param of queryString.split("&")) {
    const [key, ...rest] = param.split("=");
    if (key) {
      query[key] = rest.join("=");
    }
  }
  return query;
}

// `target` is the request target as received (path and query, not decoded); `bodyBinary` an
// ArrayBuffer, as open-runtimes' Bun and Deno runtimes give it.
function buildRequest(request, target, bodyBinary, forcedHeaders) {
  const headers = {};
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    if (!lower.startsWith("x-open-runtimes-")) {
      headers[lower] = value;
    }
  }
  for (const name of Object.keys(forcedHeaders)) {
    headers[name.toLowerCase()] = `${forcedHeaders[name]}`;
  }
  const contentType = (request.headers.get("content-type") ?? "text/plain").toLowerCase();
  const scheme = request.headers.get("x-forwarded-proto") ?? "http";
  const defaultPort = scheme === "https" ? "443" : "80";
  const hostHeader = request.headers.get("host") ?? "";
  const host = hostHeader.includes(":") ? hostHeader.split(":")[0] : hostHeader;
  const port = +(hostHeader.includes(":") ? hostHeader.split(":")[1] : defaultPort);
  const questionMark = target.indexOf("?");
  const urlPath = questionMark === -1 ? target : target.slice(0, questionMark);
  const queryString = questionMark === -1 ? "" : target.slice(questionMark + 1);
  const portPart = port.toString() === defaultPort ? "" : `:${port}`;
  const url = `${scheme}://${host}${portPart}${urlPath}${queryString === "" ? "" : `?${queryString}`}`;

  return {
    get body() {
      if (contentType.startsWith("application/json")) {
        return bodyBinary.byteLength > 0 ? this.bodyJson : {};
      }
      return this.bodyText;
    },
    get bodyRaw() {
      return this.bodyText;
    },
    get bodyText() {
      return new TextDecoder().decode(bodyBinary);
    },
    get bodyJson() {
      return JSON.parse(this.bodyText);
    },
    get bodyBinary() {
      return bodyBinary;
    },
    headers,
    method: request.method,
    host,
    scheme,
    query: parseQuery(queryString),
    queryString,
    port,
    url,
    path: urlPath,
  };
}

// Each method returns {body, statusCode, headers}. They are closures, so destructured
// methods (`const { json } = res`) work too.
function buildResponse() {
  const res = {
    binary: (bytes, statusCode = 200, headers = {}) => ({ body: bytes, statusCode, headers }),
    text: (body, statusCode = 200, headers = {}) =>
      res.binary(new TextEncoder().encode(body), statusCode, headers),
    send: (body, statusCode = 200, headers = {}) => ({ body, statusCode, headers }),
    json: (obj, statusCode = 200, headers = {}) => {
      headers["content-type"] = "application/json";
      return res.text(JSON.stringify(obj), statusCode, headers);
    },
    empty: () => res.text("", 204, {}),
    redirect: (url, statusCode = 301, headers = {}) => {
      headers["location"] = url;
      return res.text("", statusCode, headers);
    },
  };
  return res;
}

export function buildContext(request, target, bodyBinary, logger, forcedHeaders) {
  return {
    req: buildRequest(request, target, bodyBinary, forcedHeaders),
    res: buildResponse(),
    log: (...messages) => logger.write(messages, Logger.TYPE_LOG),
    error: (...messages) => logger.write(messages, Logger.TYPE_ERROR),
  };
}
