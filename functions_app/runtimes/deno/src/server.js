// Open Runtimes v5 function server for Deno: Deno.serve, no third-party modules.
//
// Loads /usr/local/server/src/function/$OPEN_RUNTIMES_ENTRYPOINT with import() (TypeScript or
// JavaScript ES modules) and calls its default export with `context` (see function.js).
// Listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set (bound under a temporary name,
// then renamed: the path appears only once it accepts), else on TCP port $OPEN_RUNTIMES_PORT
// (3000). Deno's fetch reads HTTP(S)_PROXY / NO_PROXY itself, so outbound requests go through
// the platform's egress proxy without help; node:http and node:https get help where the
// version's client ignores the variables (egress.js).

import fs from "node:fs";
import process from "node:process";
import { installNativeCapture } from "./context.js";
import * as egress from "./egress.js";
import { handle } from "./function.js";

function onError(error) {
  console.error(error);
  return new Response("", { status: 500 });
}

function announce() {
  console.log("HTTP server successfully started!");
}

function listen() {
  const socketPath = Deno.env.get("OPEN_RUNTIMES_SOCKET");
  const stop = () => {
    if (socketPath) {
      fs.rmSync(socketPath, { force: true });
    }
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  if (!socketPath) {
    const port = +(Deno.env.get("OPEN_RUNTIMES_PORT") || 3000);
    Deno.serve({ hostname: "0.0.0.0", port, onListen: announce, onError }, handle);
    return;
  }
  const staging = `${socketPath}.${Deno.pid}.tmp`;
  fs.rmSync(staging, { force: true });
  const onListen = () => {
    fs.chmodSync(staging, 0o666);
    fs.renameSync(staging, socketPath);
    announce();
  };
  Deno.serve({ path: staging, onListen, onError }, handle);
}

installNativeCapture();
egress.install(process.env, Deno.version.deno);
// Background failures of user code are reported, not fatal: the runtime stays warm.
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  console.error("Unhandled rejection:", event.reason);
});
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  console.error("Uncaught exception:", event.error);
});
listen();
