"use strict";
// Outbound HTTP(S) for code that does not read HTTP(S)_PROXY itself. The container has no
// network; the platform's egress proxy listens on loopback (helpers/bridges.sh). Here Node's
// global fetch (undici) and the default agents of `http` and `https` open every connection as a
// CONNECT tunnel through that proxy; hosts in NO_PROXY (this platform's API on 127.0.0.1) are
// reached directly. Clients that honour the variables themselves (axios, npm) talk to the proxy
// on their own, and get the same policy. A refusal surfaces as a connection error whose message
// is the proxy's reason.

const net = require("net");
const tls = require("tls");
const http = require("http");
const https = require("https");

const HEAD_LIMIT = 64 * 1024;

function proxyFrom(env) {
  const raw = env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy;
  if (!raw) {
    return null;
  }
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

function noProxyFrom(env) {
  return (env.NO_PROXY || env.no_proxy || "")
    .split(",")
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
}

function bypassed(host, noProxy) {
  const name = String(host || "").replace(/^\[|\]$/g, "").toLowerCase();
  return noProxy.some((entry) => {
    if (entry === "*" || name === entry) {
      return true;
    }
    const suffix = entry.startsWith(".") ? entry : `.${entry}`;
    return name.endsWith(suffix);
  });
}

// A socket to host:port through the proxy, handed to `callback(error, socket)` once the proxy
// answered 200 (or with the proxy's refusal as the error).
function tunnel(proxy, host, port, callback) {
  const socket = net.connect(+proxy.port || 80, proxy.hostname);
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  const target = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  let head = Buffer.alloc(0);
  let done = false;
  const finish = (error) => {
    if (done) {
      return;
    }
    done = true;
    socket.removeListener("data", onData);
    socket.removeListener("error", finish);
    socket.removeListener("end", onEnd);
    if (error) {
      socket.destroy();
      callback(error);
    } else {
      callback(null, socket);
    }
  };
  const onEnd = () => finish(refusal(head) || new Error("The egress proxy closed the connection"));
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (head.length > HEAD_LIMIT) {
        finish(new Error("The egress proxy sent a malformed reply"));
      }
      return;
    }
    const status = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
    if (/^HTTP\/1\.[01] 200/.test(status)) {
      finish();
    } else if (head.length >= end + 4 + contentLength(head.subarray(0, end))) {
      finish(refusal(head));
    }
  };
  socket.on("data", onData);
  socket.on("error", finish);
  socket.on("end", onEnd);
  socket.write(
    `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
  );
}

function contentLength(head) {
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head.toString("latin1"));
  return match ? +match[1] : 0;
}

function refusal(head) {
  const end = head.indexOf("\r\n\r\n");
  if (end < 0) {
    return null;
  }
  const status = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
  const reason = head.subarray(end + 4).toString("utf8").trim();
  const error = new Error(reason || `Egress proxy: ${status}`);
  error.code = "EGRESS_REFUSED";
  return error;
}

function secure(socket, host, options, callback) {
  const servername = options.servername || (net.isIP(host) ? undefined : host);
  const wrapped = tls.connect({ ...options, socket, servername });
  let done = false;
  const once = (error) => {
    if (!done) {
      done = true;
      callback(error, error ? undefined : wrapped);
    }
  };
  wrapped.once("secureConnect", () => once(null));
  wrapped.once("error", once);
}

// A tunnel to host:port, wrapped in TLS when `tlsOptions` is given.
function through(proxy, host, port, tlsOptions, callback) {
  tunnel(proxy, host, port, (error, socket) => {
    if (error) {
      callback(error);
    } else if (tlsOptions) {
      secure(socket, host, tlsOptions, callback);
    } else {
      callback(null, socket);
    }
  });
}

function tunnelled(Base, proxy, noProxy, useTls) {
  return class extends Base {
    createConnection(options, callback) {
      const host = options.host || options.hostname || "localhost";
      const port = +options.port || (useTls ? 443 : 80);
      if (bypassed(host, noProxy)) {
        return super.createConnection(options, callback);
      }
      through(proxy, host, port, useTls && options, callback);
      return undefined;
    }
  };
}

// undici's connector contract: connect(options, callback(error, socket)) for each connection.
function fetchConnector(proxy, noProxy) {
  return (options, callback) => {
    const useTls = options.protocol === "https:";
    const host = options.hostname;
    const port = +options.port || (useTls ? 443 : 80);
    const tlsOptions = { ALPNProtocols: ["http/1.1"], servername: options.servername || undefined };
    if (bypassed(host, noProxy)) {
      const socket = net.connect(port, host);
      socket.once("error", callback);
      socket.once("connect", () => {
        socket.removeListener("error", callback);
        if (useTls) {
          secure(socket, host, tlsOptions, callback);
        } else {
          callback(null, socket);
        }
      });
      return;
    }
    through(proxy, host, port, useTls && tlsOptions, callback);
  };
}

async function installFetch(proxy, noProxy, fetch) {
  try {
    await fetch("data:,"); // loads undici, which sets its global dispatcher
  } catch {
    // nothing: the dispatcher exists even when this fails
  }
  const key = Symbol.for("undici.globalDispatcher.1");
  const current = globalThis[key];
  if (current && typeof current.constructor === "function") {
    globalThis[key] = new current.constructor({ connect: fetchConnector(proxy, noProxy) });
  }
}

// Loading undici takes tens of milliseconds: where fetch is its only user (no global WebSocket
// or EventSource), the dispatcher is installed by the first fetch instead of at every cold start.
function lazyFetch(proxy, noProxy) {
  const original = globalThis.fetch;
  let installed = null;
  globalThis.fetch = function fetch(input, init) {
    installed ??= installFetch(proxy, noProxy, original);
    return installed.then(() => original(input, init));
  };
}

async function install(env) {
  const proxy = proxyFrom(env);
  if (!proxy) {
    return;
  }
  const noProxy = noProxyFrom(env);
  http.globalAgent = new (tunnelled(http.Agent, proxy, noProxy, false))();
  https.globalAgent = new (tunnelled(https.Agent, proxy, noProxy, true))();
  if (typeof globalThis.fetch !== "function") {
    return;
  }
  if (globalThis.WebSocket || globalThis.EventSource) {
    await installFetch(proxy, noProxy, globalThis.fetch);
  } else {
    lazyFetch(proxy, noProxy);
  }
}

module.exports = { install, bypassed };
