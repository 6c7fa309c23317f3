package io.openruntimes.java;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** {@code context.getReq()}: the request as the v5 runtime describes it. */
public class RuntimeRequest {
  private final String method;
  private final String scheme;
  private final String host;
  private final int port;
  private final String path;
  private final Map<String, String> query;
  private final String queryString;
  private final Map<String, String> headers;
  private final byte[] bodyBinary;
  private final String url;

  public RuntimeRequest(
      String method,
      String scheme,
      String host,
      int port,
      String path,
      Map<String, String> query,
      String queryString,
      Map<String, String> headers,
      byte[] bodyBinary,
      String url) {
    this.method = method;
    this.scheme = scheme;
    this.host = host;
    this.port = port;
    this.path = path;
    this.query = query;
    this.queryString = queryString;
    this.headers = headers;
    this.bodyBinary = bodyBinary;
    this.url = url;
  }

  public String getMethod() {
    return method;
  }

  public String getScheme() {
    return scheme;
  }

  public String getHost() {
    return host;
  }

  public int getPort() {
    return port;
  }

  public String getPath() {
    return path;
  }

  public Map<String, String> getQuery() {
    return query;
  }

  public String getQueryString() {
    return queryString;
  }

  public Map<String, String> getHeaders() {
    return headers;
  }

  public byte[] getBodyBinary() {
    return bodyBinary;
  }

  public String getBodyText() {
    return new String(bodyBinary, StandardCharsets.UTF_8);
  }

  /** Deprecated alias of {@link #getBodyText()}. */
  public String getBodyRaw() {
    return getBodyText();
  }

  /**
   * The body parsed as a JSON object (numbers as Double, as Gson's untyped decoding gives them).
   * When it is not one this throws Gson's {@code JsonSyntaxException} where Gson is on the class
   * path (as upstream, whose runtime parses with Gson), else {@link JsonException}.
   */
  public Map<String, Object> getBodyJson() {
    try {
      return Json.decodeObject(getBodyText());
    } catch (JsonException e) {
      throw asGsonError(e);
    }
  }

  private static RuntimeException asGsonError(JsonException error) {
    try {
      Class<?> type =
          Class.forName(
              "com.google.gson.JsonSyntaxException", true, RuntimeRequest.class.getClassLoader());
      Object converted =
          type.getConstructor(String.class, Throwable.class).newInstance(error.getMessage(), error);
      if (converted instanceof RuntimeException) {
        return (RuntimeException) converted;
      }
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      // no Gson: our own exception
    }
    return error;
  }

  /** Deprecated: the JSON object for a JSON content-type ({} when empty), else the text. */
  public Object getBody() {
    String contentType = headers.getOrDefault("content-type", "text/plain").toLowerCase();
    if (contentType.startsWith("application/json")) {
      return bodyBinary.length > 0 ? getBodyJson() : new HashMap<String, Object>();
    }
    return getBodyText();
  }

  public String getUrl() {
    return url;
  }
}
