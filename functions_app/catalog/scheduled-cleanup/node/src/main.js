// Delete the project's finished executions older than RETENTION_DAYS, through this API, with
// the execution's own API key (x-appwrite-key: the function's scopes, for its timeout).
const PAGE = 100;
const FINISHED = ["completed", "failed"];

function api(key) {
  const endpoint = process.env.APPWRITE_FUNCTION_API_ENDPOINT.replace(/\/+$/, "");
  const headers = {
    "x-appwrite-project": process.env.APPWRITE_FUNCTION_PROJECT_ID,
    "x-appwrite-key": key,
    "content-type": "application/json",
  };
  return async (method, path, queries = []) => {
    const query = new URLSearchParams(queries.map((q) => ["queries[]", JSON.stringify(q)])).toString();
    const response = await fetch(`${endpoint}${path}${query ? `?${query}` : ""}`, { method, headers });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
    }
    return text ? JSON.parse(text) : null;
  };
}

async function functionIds(call) {
  const wanted = (process.env.FUNCTION_IDS || "").split(",").map((id) => id.trim()).filter(Boolean);
  if (wanted.length) return wanted;
  const found = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await call("GET", "/functions", [{ method: "limit", values: [PAGE] }, { method: "offset", values: [offset] }]);
    found.push(...page.functions.map((fn) => fn.$id));
    if (offset + PAGE >= page.total || page.functions.length === 0) return found;
  }
}

export default async ({ req, res, log, error }) => {
  const key = req.headers["x-appwrite-key"] || "";
  if (!key) return res.json({ error: "No API key: run this function through the platform." }, 500);
  const call = api(key);
  const days = Number(process.env.RETENTION_DAYS || 14);
  const dryRun = ["1", "true", "yes"].includes((process.env.DRY_RUN || "false").toLowerCase());
  const before = new Date(Date.now() - days * 86400000).toISOString().replace("Z", "+00:00");
  const report = { before, dryRun, functions: 0, found: 0, deleted: 0, skipped: 0 };

  for (const functionId of await functionIds(call)) {
    report.functions += 1;
    const seen = new Set();
    for (;;) {
      const { executions } = await call("GET", `/functions/${functionId}/executions`, [
        { method: "lessThan", attribute: "$createdAt", values: [before] },
        { method: "limit", values: [PAGE] },
      ]);
      const batch = executions.filter((execution) => !seen.has(execution.$id));
      if (batch.length === 0) break;
      for (const execution of batch) {
        seen.add(execution.$id);
        report.found += 1;
        if (dryRun || !FINISHED.includes(execution.status)) {
          report.skipped += 1;
          continue;
        }
        try {
          await call("DELETE", `/functions/${functionId}/executions/${execution.$id}`);
          report.deleted += 1;
        } catch (err) {
          error(`could not delete ${execution.$id}: ${err.message}`);
          report.skipped += 1;
        }
      }
    }
  }
  log(JSON.stringify(report));
  return res.json(report);
};
