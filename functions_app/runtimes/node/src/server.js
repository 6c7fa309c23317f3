"use strict";
// Open Runtimes v5 function server for Node.js: plain `http`, no npm dependencies.
//
// Loads /usr/local/server/src/function/$OPEN_RUNTIMES_ENTRYPOINT (require, falling back to
// import() for ES modules), calls its default export (or the module itself) with `context`
// and answers the way the v5 runtime does (an entrypoint that is missing, does not parse,
// fails to load or exports no function answers 503, as open-runtimes' "safe entrypoints"). Listens on the Unix socket $OPEN_RUNTIMES_SOCKET
// when set, else on TCP port $OPEN_RUNTIMES_PORT (3000).

const fs = require("fs");
const http = require("http");
const path = require("path");
const { pathToFileURL } = require("url");
const { Logger, buildContext, currentLogger, installNativeCapture } = require("./context");
const egress = require("./egress");

const USER_CODE_PATH = "/usr/local/server/src/function";
const MAX_BODY = 20 * 1024 * 1024;
const TEXT_PLAIN = "text/plain; charset=utf-8";
const TIMEOUT_ERROR = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.';
const SECRET_ERROR = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.';
const RETURN_MISSING =
  "Return statement missing. return context.res.empty() if no response is expected.";
const SIGNATURE_INVALID =
  "Function signature invalid. Did you forget to export a 'main' function?";
const SKIPPED_HEADERS = new Set(["content-length", "transfer-encoding", "connection"]);

const config = {
  secret: process.env.OPEN_RUNTIMES_SECRET || "",
  entrypoint: process.env.OPEN_RUNTIMES_ENTRYPOINT || "",
  logsDir: process.env.OPEN_RUNTIMES_LOGS_DIR || "/mnt/logs",
  development: process.env.OPEN_RUNTIMES_ENV === "development",
  forcedHeaders: JSON.parse(process.env.OPEN_RUNTIMES_HEADERS || "{}"),
};

class BodyTooLarge extends Error {}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new BodyTooLarge(`Maximum request body size ${MAX_BODY} exceeded.`));
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// The entrypoint's function, loaded at the first request that finds it valid and kept (so
// module state persists while the runtime is warm). An entrypoint that cannot serve answers
// 503 with one of open-runtimes' "safe entrypoint" messages in the errors.
let userFunction = null;

class LoadError extends Error {}

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// Where a syntax error is (`<file>:<line>`, the line and the caret), from the head of its stack.
function syntaxErrorLocation(error) {
  const stack = typeof error.stack === "string" ? error.stack : "";
  const head = stack.split(/\n\s*SyntaxError:/)[0];
  if (head === stack || !/^(file:\/\/)?\//.test(head)) {
    return "";
  }
  return "\n" + head.replace(/^file:\/\//, "").replace(`${USER_CODE_PATH}/`, "").trimEnd();
}

async function requireOrImport(file) {
  try {
    return require(file);
  } catch (err) {
    // ES modules: a .mjs file or "type": "module" (and, where require() loads ES modules, one
    // with top-level await).
    if (err.code !== "ERR_REQUIRE_ESM" && err.code !== "ERR_REQUIRE_ASYNC_MODULE") {
      throw err;
    }
    return await import(pathToFileURL(file).href);
  }
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
    loaded = await requireOrImport(file);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new LoadError(`Syntax error in ${entrypoint}: ${e.message}${syntaxErrorLocation(e)}`);
    }
    const message = e instanceof Error ? e.message : String(e);
    const stack = e instanceof Error && typeof e.stack === "string" ? e.stack : "";
    // The user's frames only, not Node's loader nor this server.
    const frames = stack
      .split("\n")
      .filter((line) => /^\s+at /.test(line) && !/\(?node:/.test(line))
      .filter((line) => !line.includes(__dirname + "/") || line.includes(USER_CODE_PATH + "/"));
    throw new LoadError(`Failed to load module: ${[message, ...frames].join("\n")}`);
  }
  const candidate = loaded && typeof loaded.default === "function" ? loaded.default : loaded;
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

function toBuffer(body) {
  if (Buffer.isBuffer(body)) {
    return body;
  }
  if (ArrayBuffer.isView(body)) {
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }
  if (body instanceof ArrayBuffer) {
    return Buffer.from(body);
  }
  if (typeof body === "string") {
    return Buffer.from(body, "utf8");
  }
  if (typeof body === "object" || typeof body === "number") {
    return Buffer.from(JSON.stringify(body), "utf8");
  }
  return Buffer.from(String(body), "utf8");
}

function reply(res, statusCode, headers, body) {
  for (const [name, value] of Object.entries(headers)) {
    res.setHeader(name, value);
  }
  const buffer = toBuffer(body);
  res.statusCode = statusCode;
  if (statusCode !== 204 && statusCode !== 304) {
    res.setHeader("content-length", buffer.length);
  }
  res.end(buffer);
}

function sendOutput(res, output, logger) {
  const body = output.body ?? "";
  const statusCode = output.statusCode ?? 200;
  const headers = output.headers ?? {};
  const normalised = {};
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith("x-open-runtimes-") && !SKIPPED_HEADERS.has(lower)) {
      normalised[lower] = headers[name];
    }
  }
  let contentType = `${normalised["content-type"] ?? "text/plain"}`.toLowerCase();
  if (!contentType.startsWith("multipart/") && !contentType.includes("charset=")) {
    contentType += "; charset=utf-8";
  }
  normalised["content-type"] = contentType;
  normalised["x-open-runtimes-log-id"] = logger.id;
  reply(res, statusCode, normalised, body);
}

async function action(logger, req, res) {
  const timeout = req.headers["x-open-runtimes-timeout"] ?? "";
  if (timeout && (!/^\d+$/.test(timeout) || +timeout === 0)) {
    return reply(res, 500, { "content-type": TEXT_PLAIN }, TIMEOUT_ERROR);
  }
  if (config.secret && req.headers["x-open-runtimes-secret"] !== config.secret) {
    return reply(res, 500, { "content-type": TEXT_PLAIN }, SECRET_ERROR);
  }
  const bodyBinary = await readBody(req);
  const context = buildContext(req, bodyBinary, logger, config.forcedHeaders);
  let output = await currentLogger.run(logger, () => serve(context, timeout ? +timeout : null));
  if (output === null || output === undefined) {
    context.error(RETURN_MISSING);
    output = context.res.text("", 500, {});
  }
  sendOutput(res, output, logger);
}

function resetHeaders(res) {
  for (const name of res.getHeaderNames()) {
    res.removeHeader(name);
  }
}

async function handle(req, res) {
  const urlPath = req.url.split("?")[0];
  if (urlPath === "/__opr/health") {
    return reply(res, 200, { "content-type": TEXT_PLAIN }, "OK");
  }
  if (urlPath === "/__opr/timings") {
    let timings = "";
    try {
      timings = fs.readFileSync("/mnt/telemetry/timings.txt");
    } catch {
      // no timings recorded
    }
    return reply(res, 200, { "content-type": TEXT_PLAIN }, timings);
  }
  const logger = new Logger(
    req.headers["x-open-runtimes-logging"],
    req.headers["x-open-runtimes-log-id"],
    config.logsDir,
    config.development,
  );
  try {
    await action(logger, req, res);
  } catch (e) {
    resetHeaders(res);
    if (e instanceof BodyTooLarge) {
      res.setHeader("connection", "close");
      return reply(res, 413, { "content-type": TEXT_PLAIN }, e.message);
    }
    logger.write([e], Logger.TYPE_ERROR);
    reply(res, 500, { "content-type": TEXT_PLAIN, "x-open-runtimes-log-id": logger.id }, "");
  } finally {
    logger.end();
  }
}

function listen(server, announce) {
  const socketPath = process.env.OPEN_RUNTIMES_SOCKET;
  const stop = () => {
    if (socketPath) {
      fs.rmSync(socketPath, { force: true });
    }
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (!socketPath) {
    server.listen(+(process.env.OPEN_RUNTIMES_PORT || 3000), "0.0.0.0", announce);
    return;
  }
  // Bind under a temporary name, then rename: the socket path appears only once it accepts.
  const staging = `${socketPath}.${process.pid}.tmp`;
  fs.rmSync(staging, { force: true });
  server.listen(staging, () => {
    fs.chmodSync(staging, 0o666);
    fs.renameSync(staging, socketPath);
    announce();
  });
}

function main() {
  installNativeCapture();
  // Background failures of user code are reported, not fatal: the runtime stays warm.
  process.on("unhandledRejection", (reason) => console.error("Unhandled rejection:", reason));
  process.on("uncaughtException", (error) => console.error("Uncaught exception:", error));
  const server = http.createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((e) => {
      console.error(e);
      res.destroy();
    });
  });
  server.keepAliveTimeout = 75000;
  server.headersTimeout = 80000;
  const started = () => listen(server, () => console.log("HTTP server successfully started!"));
  egress.install(process.env).then(started, (error) => {
    console.error("Egress setup failed:", error);
    started();
  });
}

main();
