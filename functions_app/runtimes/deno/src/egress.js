// Outbound HTTP(S) of node:http and node:https for the Deno versions whose client ignores
// HTTP(S)_PROXY. The container has no network; the platform's egress proxy listens on loopback
// (helpers/bridges.sh). Deno's fetch reads the proxy variables itself, and so did node:http up to
// 2.1.4 (it was built on fetch's client). From 2.1.5 on, node:http sends each request over the
// socket its Agent's createConnection gives: here, for a host outside NO_PROXY, a CONNECT tunnel
// through the proxy, over which Deno then speaks TLS itself for https. A refusal surfaces as a
// connection error whose message is the proxy's reason.

import http from "node:http";
import net from "node:net";

const HEAD_LIMIT = 64 * 1024;
const FIRST_WITHOUT_PROXY = [2, 1, 5];

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

// The proxy's refusal: its reason (the body) as the message.
function refusal(head) {
  const end = head.indexOf("\r\n\r\n");
  const status = head.slice(0, head.indexOf("\r\n"));
  const reason = end < 0 ? "" : head.slice(end + 4).trim();
  const error = new Error(reason || `Egress proxy: ${status}`);
  error.code = "EGRESS_REFUSED";
  return error;
}

function contentLength(head) {
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  return match ? +match[1] : 0;
}

// A socket to host:port through the proxy, handed to `callback(error, socket)` once the proxy
// answered 200 (or with the proxy's refusal as the error).
function tunnel(proxy, host, port, callback) {
  const socket = net.connect(+proxy.port || 80, proxy.hostname);
  const auth = btoa(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`);
  const target = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  let head = "";
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
      socket.pause(); // from here on, Deno's HTTP client reads the connection itself
      callback(null, socket);
    }
  };
  const onEnd = () => finish(refusal(head));
  const onData = (chunk) => {
    head += chunk.toString("latin1");
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (head.length > HEAD_LIMIT) {
        finish(new Error("The egress proxy sent a malformed reply"));
      }
      return;
    }
    if (/^HTTP\/1\.[01] 200/.test(head)) {
      finish();
    } else if (head.length >= end + 4 + contentLength(head.slice(0, end))) {
      finish(refusal(head));
    }
  };
  socket.on("data", onData);
  socket.on("error", finish);
  socket.on("end", onEnd);
  socket.once("connect", () =>
    socket.write(
      `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
    ),
  );
}

function needsTunnel(version) {
  const parts = String(version).split(".").map((part) => parseInt(part, 10) || 0);
  for (let index = 0; index < FIRST_WITHOUT_PROXY.length; index++) {
    if (parts[index] !== FIRST_WITHOUT_PROXY[index]) {
      return parts[index] > FIRST_WITHOUT_PROXY[index];
    }
  }
  return true;
}

// Every Agent (http's and https', the global ones and the user's own) connects through the proxy.
export function install(env, version) {
  const proxy = proxyFrom(env);
  if (!proxy || !needsTunnel(version)) {
    return;
  }
  const noProxy = noProxyFrom(env);
  const direct = http.Agent.prototype.createConnection;
  http.Agent.prototype.createConnection = function (options, callback) {
    const host = options.host || options.hostname || "localhost";
    if (options.socketPath || bypassed(host, noProxy)) {
      return direct.call(this, options, callback);
    }
    const port = +options.port || +options.defaultPort || (this.protocol === "https:" ? 443 : 80);
    tunnel(proxy, host, port, callback);
    return undefined;
  };
}
