// Open Runtimes v5 function server for Bun: Bun.serve, no npm dependencies.
//
// Loads /usr/local/server/src/function/$OPEN_RUNTIMES_ENTRYPOINT with import() (TypeScript,
// ES modules and CommonJS alike), calls its default export (or `module.exports`) with
// `context` (see function.js). Listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set (bound
// under a temporary name, then renamed: the path appears only once it accepts), else on TCP
// port $OPEN_RUNTIMES_PORT (3000). Bun's fetch reads HTTP(S)_PROXY / NO_PROXY itself, so
// outbound requests go through the platform's egress proxy without help.

import fs from "node:fs";
import { installNativeCapture } from "./context.js";
import { MAX_BODY, handle } from "./function.js";

function options() {
  return {
    development: false,
    // A request may take as long as the function's timeout; idle keep-alive connections are
    // closed by the caller.
    idleTimeout: 0,
    // Bun itself answers 413 past this (the handler also checks, for chunked bodies).
    maxRequestBodySize: MAX_BODY,
    fetch: handle,
    error(error) {
      console.error(error);
      return new Response("", { status: 500 });
    },
  };
}

function listen() {
  const socketPath = process.env.OPEN_RUNTIMES_SOCKET;
  let server;
  const stop = () => {
    if (socketPath) {
      fs.rmSync(socketPath, { force: true });
    }
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (!socketPath) {
    server = Bun.serve({
      ...options(),
      hostname: "0.0.0.0",
      port: +(process.env.OPEN_RUNTIMES_PORT || 3000),
    });
  } else {
    const staging = `${socketPath}.${process.pid}.tmp`;
    fs.rmSync(staging, { force: true });
    server = Bun.serve({ ...options(), unix: staging });
    fs.chmodSync(staging, 0o666);
    fs.renameSync(staging, socketPath);
  }
  console.log("HTTP server successfully started!");
  return server;
}

installNativeCapture();
// Background failures of user code are reported, not fatal: the runtime stays warm.
process.on("unhandledRejection", (reason) => console.error("Unhandled rejection:", reason));
process.on("uncaughtException", (error) => console.error("Uncaught exception:", error));
listen();
