import { readFileSync } from "node:fs";
import ms from "ms"; // an npm package, installed by the build (bun install)

const BUILT = readFileSync(`${import.meta.dir}/built.txt`, "utf8");
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

export default async ({ req, res, log, error }: any) => {
  switch (req.path) {
    case "/echo": {
      let bodyJson: unknown = null;
      try {
        bodyJson = JSON.parse(req.bodyText);
      } catch {
        bodyJson = null;
      }
      const env = Object.fromEntries(
        Object.entries(process.env).filter(
          ([key]) => key.startsWith("APPWRITE_FUNCTION_") || key.startsWith("CONFORMANCE_"),
        ),
      );
      return res.json({
        method: req.method,
        scheme: req.scheme,
        host: req.host,
        port: req.port,
        path: req.path,
        query: req.query,
        queryString: req.queryString,
        headers: req.headers,
        bodyText: req.bodyText,
        bodyJson,
        url: req.url,
        env,
        built: BUILT,
        package: ms("2 days"),
      });
    }
    case "/binary":
      return res.binary(new Uint8Array(req.bodyBinary).reverse());
    case "/headers":
      return res.text("<b/>", 201, {
        "Content-Type": "Text/HTML",
        "X-Custom": "V",
        "x-open-runtimes-x": "1",
      });
    case "/json":
      return res.json({ ok: true, list: [1, 2], nested: { a: "b" } });
    case "/redirect":
      return res.redirect("https://example.com/next", 301);
    case "/empty":
      return res.empty();
    case "/status":
      return res.text("teapot", 418);
    case "/cookie":
      return res.text("cookie", 200, { "set-cookie": "session=abc; Path=/; HttpOnly" });
    case "/send":
      return res.send("sent", 202);
    case "/log":
      log("a", { b: 1 }, [1, 2], 3, true);
      console.log("native out");
      error("problem");
      log("x".repeat(9000));
      return res.text("logged");
    case "/objects":
      log({
        text: "marker-1",
        number: 42,
        list: [1, [2, 3]],
        map: { k: { v: 1 } },
        none: null,
        flag: false,
        big: 10n,
        jsMap: new Map([["mapkey", 1]]),
        jsSet: new Set(["setval"]),
        url: new URL("https://example.com/x"),
        when: new Date(0),
      });
      return res.text("objects");
    case "/throw":
      throw new Error("boom");
    case "/none":
      return;
    case "/sleep":
      await sleep(Number(req.query.s ?? "1") * 1000);
      return res.text("slept");
    default:
      return res.text(`unknown path ${req.path}`, 404);
  }
};
