package io.openruntimes.java;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A small HTTP/1.1 server side over a blocking {@link SocketChannel} (Unix or TCP): keep-alive,
 * Content-Length and chunked request bodies, {@code Expect: 100-continue}, and each response
 * written in one go (head and body together).
 */
final class Http {
  static final int MAX_HEAD = 64 * 1024;
  static final int MAX_HEADERS = 256;
  static final int MAX_BODY = 20 * 1024 * 1024;

  private Http() {}

  static final class Error extends Exception {
    final int status;

    Error(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  static final class Request {
    String method;
    String target;
    String version;
    final List<String[]> headers = new ArrayList<>(); // {lower-cased name, value}
    byte[] body = new byte[0];
    boolean keepAlive = true;

    String header(String name) {
      for (String[] header : headers) {
        if (header[0].equals(name)) {
          return header[1];
        }
      }
      return "";
    }
  }

  static final class Response {
    final int status;
    final List<String[]> headers;
    final byte[] body;

    Response(int status, List<String[]> headers, byte[] body) {
      this.status = status;
      this.headers = headers;
      this.body = body;
    }

    static Response text(int status, String text, String logId) {
      List<String[]> headers = new ArrayList<>();
      headers.add(new String[] {"content-type", "text/plain; charset=utf-8"});
      if (logId != null) {
        headers.add(new String[] {"x-open-runtimes-log-id", logId});
      }
      return new Response(status, headers, text.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Reads requests from one connection. */
  static final class Reader {
    private final SocketChannel channel;
    private final Server.Connection connection;
    private byte[] buffer = new byte[16 * 1024];
    private int position;
    private int limit;

    Reader(SocketChannel channel, Server.Connection connection) {
      this.channel = channel;
      this.connection = connection;
    }

    private boolean fill() throws IOException {
      if (position > 0) {
        System.arraycopy(buffer, position, buffer, 0, limit - position);
        limit -= position;
        position = 0;
      }
      if (limit == buffer.length) {
        byte[] larger = new byte[buffer.length * 2];
        System.arraycopy(buffer, 0, larger, 0, limit);
        buffer = larger;
      }
      int read = channel.read(ByteBuffer.wrap(buffer, limit, buffer.length - limit));
      if (read < 0) {
        return false;
      }
      limit += read;
      return true;
    }

    /** One line without its CRLF; null at a clean end of stream. */
    private String readLine(int max, boolean utf8) throws IOException, Error {
      int scanned = position;
      while (true) {
        for (int i = scanned; i < limit; i++) {
          if (buffer[i] == '\n') {
            int end = i > position && buffer[i - 1] == '\r' ? i - 1 : i;
            String line =
                new String(
                    buffer,
                    position,
                    end - position,
                    utf8 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            position = i + 1;
            return line;
          }
        }
        if (limit - position >= max) {
          throw new Error(431, "Request Header Fields Too Large");
        }
        scanned = limit - position;
        boolean more = fill();
        scanned += position;
        if (!more) {
          if (limit == position) {
            return null;
          }
          throw new Error(400, "Bad Request");
        }
      }
    }

    /** Exactly {@code length} bytes: what is buffered, then read straight into the result. */
    private byte[] readExact(int length) throws IOException, Error {
      byte[] out = new byte[length];
      int copied = Math.min(length, limit - position);
      System.arraycopy(buffer, position, out, 0, copied);
      position += copied;
      ByteBuffer rest = ByteBuffer.wrap(out, copied, length - copied);
      while (rest.hasRemaining()) {
        if (channel.read(rest) < 0) {
          throw new Error(400, "Bad Request");
        }
      }
      return out;
    }

    /** The next request, or null when the client closed the connection between requests. */
    Request read() throws IOException, Error {
      String line;
      int budget = MAX_HEAD;
      if (position == limit && !fill()) {
        return null;
      }
      if (connection != null) {
        connection.reading();
      }
      do {
        line = readLine(budget, false);
        if (line == null) {
          return null;
        }
      } while (line.isEmpty());
      budget -= line.length();
      String[] parts = line.split(" ", -1);
      if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty() || !isToken(parts[0])) {
        throw new Error(400, "Bad Request");
      }
      if (!parts[2].equals("HTTP/1.1") && !parts[2].equals("HTTP/1.0")) {
        throw new Error(400, "Bad Request");
      }
      Request request = new Request();
      request.method = parts[0];
      request.target = parts[1];
      request.version = parts[2];
      while (true) {
        line = readLine(Math.max(budget, 1), true);
        if (line == null) {
          throw new Error(400, "Bad Request");
        }
        if (line.isEmpty()) {
          break;
        }
        budget -= line.length() + 2;
        if (budget <= 0 || request.headers.size() >= MAX_HEADERS) {
          throw new Error(431, "Request Header Fields Too Large");
        }
        int colon = line.indexOf(':');
        if (colon <= 0 || !isToken(line.substring(0, colon))) {
          throw new Error(400, "Bad Request");
        }
        String name = line.substring(0, colon).toLowerCase();
        String value = line.substring(colon + 1).strip();
        request.headers.add(new String[] {name, value});
      }
      String connection = request.header("connection").toLowerCase();
      if (request.version.equals("HTTP/1.0")) {
        request.keepAlive = connection.contains("keep-alive");
      } else {
        request.keepAlive = !connection.contains("close");
      }
      request.body = readBody(request);
      return request;
    }

    private byte[] readBody(Request request) throws IOException, Error {
      boolean chunked = request.header("transfer-encoding").toLowerCase().contains("chunked");
      String length = request.header("content-length");
      if (!chunked && length.isEmpty()) {
        return new byte[0];
      }
      long size = 0;
      if (!chunked) {
        try {
          size = Long.parseLong(length);
        } catch (NumberFormatException e) {
          throw new Error(400, "Bad Request");
        }
        if (size < 0) {
          throw new Error(400, "Bad Request");
        }
        if (size > MAX_BODY) {
          throw new Error(
              413,
              "Maximum request body size " + MAX_BODY + " exceeded, actual body size " + size);
        }
      }
      if (request.header("expect").equalsIgnoreCase("100-continue")
          && request.version.equals("HTTP/1.1")) {
        write(channel, "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      }
      if (!chunked) {
        return readExact((int) size);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      while (true) {
        String line = readLine(1024, false);
        if (line == null) {
          throw new Error(400, "Bad Request");
        }
        int semicolon = line.indexOf(';');
        int chunk;
        try {
          String digits = semicolon >= 0 ? line.substring(0, semicolon) : line;
          chunk = Integer.parseInt(digits.strip(), 16);
        } catch (NumberFormatException e) {
          throw new Error(400, "Bad Request");
        }
        if (chunk < 0) {
          throw new Error(400, "Bad Request");
        }
        if (chunk == 0) {
          while (true) { // trailers are ignored
            String trailer = readLine(MAX_HEAD, false);
            if (trailer == null || trailer.isEmpty()) {
              return out.toByteArray();
            }
          }
        }
        if ((long) out.size() + chunk > MAX_BODY) {
          throw new Error(413, "Maximum request body size " + MAX_BODY + " exceeded.");
        }
        out.write(readExact(chunk));
        readExact(2);
      }
    }
  }

  static boolean isToken(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return !text.isEmpty();
  }

  static void write(SocketChannel channel, byte[] data) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(data);
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** The whole response as one byte array. */
  static byte[] serialize(Response response, boolean keepAlive, boolean headOnly) {
    int status = response.status;
    StringBuilder head = new StringBuilder(256);
    head.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
    for (String[] header : response.headers) {
      head.append(header[0]).append(": ").append(header[1]).append("\r\n");
    }
    boolean bodyless = status < 200 || status == 204 || status == 304;
    if (!bodyless) {
      head.append("content-length: ").append(response.body.length).append("\r\n");
    }
    head.append(keepAlive ? "connection: keep-alive\r\n" : "connection: close\r\n");
    head.append("\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.UTF_8);
    if (bodyless || headOnly || response.body.length == 0) {
      return headBytes;
    }
    byte[] out = new byte[headBytes.length + response.body.length];
    System.arraycopy(headBytes, 0, out, 0, headBytes.length);
    System.arraycopy(response.body, 0, out, headBytes.length, response.body.length);
    return out;
  }

  private static final Map<Integer, String> REASONS =
      Map.ofEntries(
          Map.entry(100, "Continue"), Map.entry(101, "Switching Protocols"),
          Map.entry(200, "OK"), Map.entry(201, "Created"), Map.entry(202, "Accepted"),
          Map.entry(203, "Non-Authoritative Information"), Map.entry(204, "No Content"),
          Map.entry(205, "Reset Content"), Map.entry(206, "Partial Content"),
          Map.entry(300, "Multiple Choices"), Map.entry(301, "Moved Permanently"),
          Map.entry(302, "Found"), Map.entry(303, "See Other"), Map.entry(304, "Not Modified"),
          Map.entry(307, "Temporary Redirect"), Map.entry(308, "Permanent Redirect"),
          Map.entry(400, "Bad Request"), Map.entry(401, "Unauthorized"),
          Map.entry(402, "Payment Required"), Map.entry(403, "Forbidden"),
          Map.entry(404, "Not Found"), Map.entry(405, "Method Not Allowed"),
          Map.entry(406, "Not Acceptable"), Map.entry(408, "Request Timeout"),
          Map.entry(409, "Conflict"), Map.entry(410, "Gone"), Map.entry(411, "Length Required"),
          Map.entry(412, "Precondition Failed"), Map.entry(413, "Payload Too Large"),
          Map.entry(414, "URI Too Long"), Map.entry(415, "Unsupported Media Type"),
          Map.entry(416, "Range Not Satisfiable"), Map.entry(417, "Expectation Failed"),
          Map.entry(418, "I'm a Teapot"), Map.entry(422, "Unprocessable Entity"),
          Map.entry(425, "Too Early"), Map.entry(426, "Upgrade Required"),
          Map.entry(428, "Precondition Required"), Map.entry(429, "Too Many Requests"),
          Map.entry(431, "Request Header Fields Too Large"),
          Map.entry(451, "Unavailable For Legal Reasons"),
          Map.entry(500, "Internal Server Error"), Map.entry(501, "Not Implemented"),
          Map.entry(502, "Bad Gateway"), Map.entry(503, "Service Unavailable"),
          Map.entry(504, "Gateway Timeout"), Map.entry(505, "HTTP Version Not Supported"));

  static String reason(int status) {
    return REASONS.getOrDefault(status, "");
  }
}
