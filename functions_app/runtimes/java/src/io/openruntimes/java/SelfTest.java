package io.openruntimes.java;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code Server --selftest}: runs the server on a Unix socket in a temporary folder and sends it
 * a few requests (this class is the function), then exits non-zero if an answer is wrong. The
 * image build runs it to record the classes a request loads, for the class-data-sharing
 * archive that shortens cold starts.
 */
public final class SelfTest {
  /** The function of the self-test. */
  public RuntimeOutput main(RuntimeContext context) throws Exception {
    RuntimeRequest req = context.getReq();
    if (req.getPath().equals("/throw")) {
      throw new IllegalStateException("selftest");
    }
    if (req.getPath().equals("/none")) {
      return null;
    }
    Map<String, Object> body = req.getBodyJson();
    System.out.println("native selftest");
    context.log("selftest", body, List.of(1, 2), 3, true);
    context.error("selftest error");
    Map<String, Object> out = new HashMap<>(body);
    out.put("query", req.getQuery());
    out.put("headers", req.getHeaders());
    out.put("url", req.getUrl());
    out.put("text", req.getBodyText());
    return context.getRes().json(out, 200, Map.of("X-Selftest", "1"));
  }

  static void run() throws Exception {
    Path dir = Files.createTempDirectory("opr-selftest");
    Path logs = Files.createDirectory(dir.resolve("logs"));
    Path socket = dir.resolve("server.sock");
    NativeCapture.install();
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("HTTP_PROXY", "http://egress:selftest@127.0.0.1:9"); // starts the relay (unused)
    env.put("NO_PROXY", "localhost,127.0.0.1,::1");
    Egress.install(env);
    env.put("OPEN_RUNTIMES_SECRET", "selftest");
    env.put("OPEN_RUNTIMES_LOGS_DIR", logs.toString());
    env.put("OPEN_RUNTIMES_HEADERS", "{\"x-forced\":\"1\"}");
    Server server = new Server(env, SelfTest.class.getName());
    ServerSocketChannel listener = server.listen(socket.toString(), 0);
    Thread serving =
        Server.threads("opr-selftest")
            .newThread(
                () -> {
                  try {
                    server.serve(listener);
                  } catch (IOException e) {
                    // closed at the end
                  }
                });
    serving.start();
    List<String> failures = new ArrayList<>();
    try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      client.connect(UnixDomainSocketAddress.of(socket));
      expect(failures, exchange(client, "GET /__opr/health HTTP/1.1\r\nhost: a\r\n\r\n"), "200");
      String body = "{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null,\"d\":true}}";
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("host", "selftest:3000");
      headers.put("content-type", "application/json");
      headers.put("x-open-runtimes-secret", "selftest");
      headers.put("x-open-runtimes-timeout", "10");
      for (String path : new String[] {"/json?x=1&y", "/json", "/throw", "/none"}) {
        StringBuilder request = new StringBuilder("POST " + path + " HTTP/1.1\r\n");
        headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
        request.append("content-length: ").append(body.length()).append("\r\n\r\n").append(body);
        String expected = path.startsWith("/json") ? "200" : "500";
        expect(failures, exchange(client, request.toString()), expected);
      }
      String chunked =
          "POST /json HTTP/1.1\r\nhost: a\r\nx-open-runtimes-secret: selftest\r\n"
              + "transfer-encoding: chunked\r\nx-open-runtimes-logging: disabled\r\n\r\n"
              + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n";
      expect(failures, exchange(client, chunked), "200");
      expect(failures, exchange(client, "GET / HTTP/1.1\r\nhost: a\r\n\r\n"), "500");
    }
    listener.close();
    if (!failures.isEmpty()) {
      NativeCapture.REAL_ERR.println("Self-test failed:\n" + String.join("\n", failures));
      System.exit(1);
    }
    NativeCapture.REAL_OUT.println("Self-test passed.");
    System.exit(0);
  }

  private static void expect(List<String> failures, String response, String status) {
    if (!response.startsWith("HTTP/1.1 " + status + " ")) {
      failures.add("expected " + status + ", got: " + response);
    }
  }

  /** Sends one request and reads its response (head, then content-length bytes). */
  private static String exchange(SocketChannel client, String request) throws IOException {
    Http.write(client, request.getBytes(StandardCharsets.UTF_8));
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    while (true) {
      if (client.read(buffer) < 0) {
        break;
      }
      String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      if (end < 0) {
        continue;
      }
      int length = 0;
      for (String line : text.substring(0, end).split("\r\n")) {
        if (line.toLowerCase().startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      if (buffer.position() >= end + 4 + length) {
        return text;
      }
    }
    return "";
  }
}
