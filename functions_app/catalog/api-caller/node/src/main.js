// Call this platform's API with the execution's own API key: list the project's functions.
export default async ({ req, res, log, error }) => {
  const key = req.headers["x-appwrite-key"] || "";
  if (!key) return res.json({ error: "No API key: run this function through the platform." }, 500);
  const endpoint = process.env.APPWRITE_FUNCTION_API_ENDPOINT.replace(/\/+$/, "");
  const response = await fetch(`${endpoint}/functions`, {
    headers: { "x-appwrite-project": process.env.APPWRITE_FUNCTION_PROJECT_ID, "x-appwrite-key": key },
  });
  const listing = await response.json();
  if (!response.ok) {
    error(`the API answered ${response.status}: ${listing.message || ""}`);
    return res.json({ error: listing.message || `HTTP ${response.status}` }, 502);
  }
  const functions = listing.functions.map((fn) => ({ id: fn.$id, name: fn.name, runtime: fn.runtime }));
  log(`the project has ${listing.total} functions`);
  return res.json({ total: listing.total, functions });
};
