package io.openruntimes.java.src;

import com.google.gson.JsonObject;
import io.openruntimes.java.RuntimeContext;
import io.openruntimes.java.RuntimeOutput;
import io.openruntimes.java.RuntimeRequest;
import io.openruntimes.java.RuntimeResponse;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;

public class Main {
  enum Kind { ALPHA }

  record Point(int x, int y) {}

  static final String BUILT = read("/usr/local/server/src/function/built.txt");

  static String read(String path) {
    try {
      return Files.readString(Paths.get(path));
    } catch (Exception e) {
      return "";
    }
  }

  public RuntimeOutput main(RuntimeContext context) throws Exception {
    RuntimeRequest req = context.getReq();
    RuntimeResponse res = context.getRes();
    switch (req.getPath()) {
      case "/echo": {
        Object bodyJson;
        try {
          bodyJson = req.getBodyJson();
        } catch (Exception e) {
          bodyJson = null;
        }
        Map<String, String> env = new HashMap<>();
        System.getenv().forEach((key, value) -> {
          if (key.startsWith("APPWRITE_FUNCTION_") || key.startsWith("CONFORMANCE_")) {
            env.put(key, value);
          }
        });
        Map<String, Object> json = new HashMap<>();
        json.put("method", req.getMethod());
        json.put("scheme", req.getScheme());
        json.put("host", req.getHost());
        json.put("port", req.getPort());
        json.put("path", req.getPath());
        json.put("query", req.getQuery());
        json.put("queryString", req.getQueryString());
        json.put("headers", req.getHeaders());
        json.put("bodyText", req.getBodyText());
        json.put("bodyJson", bodyJson);
        json.put("url", req.getUrl());
        json.put("env", env);
        json.put("built", BUILT);
        return res.json(json);
      }
      case "/binary": {
        byte[] body = req.getBodyBinary();
        byte[] reversed = new byte[body.length];
        for (int i = 0; i < body.length; i++) {
          reversed[i] = body[body.length - 1 - i];
        }
        return res.binary(reversed);
      }
      case "/headers":
        return res.text(
            "<b/>",
            201,
            Map.of("Content-Type", "Text/HTML", "X-Custom", "V", "x-open-runtimes-x", "1"));
      case "/json": {
        Map<String, Object> json = new HashMap<>();
        json.put("ok", true);
        json.put("list", List.of(1, 2));
        json.put("nested", Map.of("a", "b"));
        return res.json(json);
      }
      case "/redirect":
        return res.redirect("https://example.com/next", 301);
      case "/empty":
        return res.empty();
      case "/status":
        return res.text("teapot", 418);
      case "/cookie":
        return res.text("cookie", 200, Map.of("set-cookie", "session=abc; Path=/; HttpOnly"));
      case "/send":
        return res.send("sent", 202);
      case "/log": {
        System.out.println("native out");
        context.log("a", Map.of("b", 1), List.of(1, 2), 3, true);
        context.error("problem");
        context.log("x".repeat(9000));
        return res.text("logged");
      }
      case "/objects": {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("text", "marker-1");
        object.put("number", 42);
        object.put("list", List.of(1, List.of(2, 3)));
        object.put("map", Map.of("k", Map.of("v", 1)));
        object.put("none", null);
        object.put("flag", false);
        object.put("float", 1.5);
        object.put("array", new int[] {1, 2});
        object.put("optional", Optional.of("present"));
        object.put("record", new Point(1, 2));
        object.put("enum", Kind.ALPHA);
        object.put("date", LocalDate.of(2024, 1, 2));
        object.put("uuid", new UUID(0, 1));
        object.put("set", new TreeSet<>(List.of("setval")));
        JsonObject gson = new JsonObject();
        gson.addProperty("gson", "value");
        object.put("gson", gson);
        context.log(object, new ArrayList<>(List.of("x")), new Point(3, 4));
        return res.text("objects");
      }
      case "/throw":
        throw new RuntimeException("boom");
      case "/none":
        return null;
      case "/sleep": {
        double seconds = Double.parseDouble(req.getQuery().getOrDefault("s", "1"));
        Thread.sleep((long) (seconds * 1000));
        return res.text("slept");
      }
      default:
        return res.text("unknown path " + req.getPath(), 404);
    }
  }
}
