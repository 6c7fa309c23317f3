// Accept a webhook only when it is signed with WEBHOOK_SECRET (HMAC-SHA256 of the raw body).
import { createHmac, timingSafeEqual } from "node:crypto";

function signatureOk(secret, body, headerValue) {
  const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("hex"));
  const given = Buffer.from(headerValue.trim().replace(/^sha256=/, "").toLowerCase());
  return expected.length === given.length && timingSafeEqual(expected, given);
}

// Your handling of an accepted event goes here.
function handle({ log }, event, payload) {
  log(`accepted ${event || "an event"} (${JSON.stringify(payload).length} bytes of JSON)`);
}

export default async (context) => {
  const { req, res, error } = context;
  const secret = process.env.WEBHOOK_SECRET || "";
  if (!secret) {
    error("WEBHOOK_SECRET is not set: every request is refused.");
    return res.json({ ok: false, error: "The receiver has no secret." }, 500);
  }
  if (req.method !== "POST") {
    return res.json({ ok: false, error: "Send a POST." }, 405, { allow: "POST" });
  }

  const header = (process.env.SIGNATURE_HEADER || "x-hub-signature-256").toLowerCase();
  const signature = req.headers[header] || "";
  if (!signature || !signatureOk(secret, req.bodyBinary, signature)) {
    error("refused a request with a missing or wrong signature");
    return res.json({ ok: false, error: "Invalid signature." }, 401);
  }

  let payload;
  try {
    payload = JSON.parse(req.bodyText || "null");
  } catch {
    payload = req.bodyText;
  }
  const event = req.headers["x-github-event"] || req.headers["x-event"] || "";
  handle(context, event, payload);
  return res.json({ ok: true, event });
};
