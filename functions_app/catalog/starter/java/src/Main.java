package io.openruntimes.java.src;

import io.openruntimes.java.RuntimeContext;
import io.openruntimes.java.RuntimeOutput;
import io.openruntimes.java.RuntimeRequest;
import java.util.LinkedHashMap;
import java.util.Map;

// The runtime calls main(context) for each request: context.getReq() is the request,
// context.getRes() builds the response, context.log() and context.error() write to the
// execution's logs.
public class Main {
  public RuntimeOutput main(RuntimeContext context) throws Exception {
    RuntimeRequest req = context.getReq();
    if (req.getPath().equals("/ping")) {
      return context.getRes().text("Pong");
    }

    String greeting = System.getenv().getOrDefault("GREETING", "Hello");
    if (greeting.isEmpty()) {
      greeting = "Hello";
    }
    String name = System.getenv().getOrDefault("APPWRITE_FUNCTION_NAME", "function");
    context.log(greeting + " from " + name + ": " + req.getMethod() + " " + req.getPath());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("message", greeting + " from " + name + "!");
    body.put("method", req.getMethod());
    body.put("path", req.getPath());
    body.put("query", req.getQuery());
    body.put(
        "runtime",
        (System.getenv().getOrDefault("APPWRITE_FUNCTION_RUNTIME_NAME", "")
                + " "
                + System.getenv().getOrDefault("APPWRITE_FUNCTION_RUNTIME_VERSION", ""))
            .trim());
    return context.getRes().json(body);
  }
}
