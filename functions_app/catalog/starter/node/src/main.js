// The runtime calls the default export for each request: req is the request, res builds the
// response, log() and error() write to the execution's logs.
export default async ({ req, res, log }) => {
  if (req.path === "/ping") {
    return res.text("Pong");
  }

  const greeting = process.env.GREETING || "Hello";
  const name = process.env.APPWRITE_FUNCTION_NAME || "function";
  log(`${greeting} from ${name}: ${req.method} ${req.path}`);
  return res.json({
    message: `${greeting} from ${name}!`,
    method: req.method,
    path: req.path,
    query: req.query,
    runtime: [process.env.APPWRITE_FUNCTION_RUNTIME_NAME, process.env.APPWRITE_FUNCTION_RUNTIME_VERSION]
      .filter(Boolean)
      .join(" "),
  });
};
