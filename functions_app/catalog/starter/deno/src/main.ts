// The runtime calls the default export for each request: req is the request, res builds the
// response, log() and error() write to the execution's logs.
export default async ({ req, res, log }: any) => {
  if (req.path === "/ping") {
    return res.text("Pong");
  }

  const env = Deno.env.toObject();
  const greeting = env.GREETING || "Hello";
  const name = env.APPWRITE_FUNCTION_NAME || "function";
  log(`${greeting} from ${name}: ${req.method} ${req.path}`);
  return res.json({
    message: `${greeting} from ${name}!`,
    method: req.method,
    path: req.path,
    query: req.query,
    runtime: [env.APPWRITE_FUNCTION_RUNTIME_NAME, env.APPWRITE_FUNCTION_RUNTIME_VERSION]
      .filter(Boolean)
      .join(" "),
  });
};
