// A JSON API with routing on method and path. Items live in the warm runtime's memory.
import { randomUUID } from "node:crypto";

const items = new Map();
const ITEM_PATH = /^\/items\/([A-Za-z0-9-]{1,64})$/;

const error = (res, status, message, headers = {}) => res.json({ error: message }, status, headers);

function readName(req) {
  let body;
  try {
    body = req.bodyJson;
  } catch {
    return null;
  }
  const name = body && typeof body === "object" && !Array.isArray(body) ? body.name : null;
  return typeof name === "string" && name.trim() ? name.trim() : null;
}

const routes = {
  "/": {
    GET: ({ res }) => res.json({ routes: ["/items", "/items/{id}"] }),
  },
  "/items": {
    GET: ({ res }) => {
      const list = [...items.values()];
      return res.json({ total: list.length, items: list });
    },
    POST: ({ req, res, log }) => {
      const name = readName(req);
      if (name === null) return error(res, 400, 'Send a JSON body {"name": "..."}.');
      if (items.size >= Number(process.env.MAX_ITEMS || 100)) return error(res, 409, "The store is full.");
      const item = { id: randomUUID().replaceAll("-", "").slice(0, 12), name, createdAt: new Date().toISOString() };
      items.set(item.id, item);
      log(`created item ${item.id}`);
      return res.json(item, 201);
    },
  },
  "/items/{id}": {
    GET: ({ res }, id) => (items.has(id) ? res.json(items.get(id)) : error(res, 404, "Item not found.")),
    PATCH: ({ req, res }, id) => {
      if (!items.has(id)) return error(res, 404, "Item not found.");
      const name = readName(req);
      if (name === null) return error(res, 400, 'Send a JSON body {"name": "..."}.');
      items.get(id).name = name;
      return res.json(items.get(id));
    },
    DELETE: ({ res }, id) => (items.delete(id) ? res.empty() : error(res, 404, "Item not found.")),
  },
};

export default async (context) => {
  const { req, res } = context;
  const path = req.path.replace(/\/+$/, "") || "/";
  const match = ITEM_PATH.exec(path);
  const [route, args] = match ? ["/items/{id}", [match[1]]] : [path, []];
  const handlers = routes[route];
  if (!handlers) return error(res, 404, `No route for ${path}.`);
  const handler = handlers[req.method];
  if (!handler) {
    return error(res, 405, `${req.method} is not allowed here.`, { allow: Object.keys(handlers).join(", ") });
  }
  return handler(context, ...args);
};
