package io.openruntimes.java;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code context.getRes()}: each method builds a {@link RuntimeOutput}. The status code and
 * headers are optional (200 and none). The headers given are copied, so immutable maps such as
 * {@code Map.of(...)} work.
 */
public class RuntimeResponse {
  private static Map<String, String> copy(Map<String, String> headers) {
    Map<String, String> result = new LinkedHashMap<>();
    if (headers != null) {
      result.putAll(headers);
    }
    return result;
  }

  public RuntimeOutput binary(byte[] bytes, int statusCode, Map<String, String> headers) {
    return new RuntimeOutput(bytes == null ? new byte[0] : bytes, statusCode, copy(headers));
  }

  public RuntimeOutput binary(byte[] bytes, int statusCode) {
    return binary(bytes, statusCode, null);
  }

  public RuntimeOutput binary(byte[] bytes) {
    return binary(bytes, 200, null);
  }

  public RuntimeOutput text(String body, int statusCode, Map<String, String> headers) {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    return binary(bytes, statusCode, headers);
  }

  public RuntimeOutput text(String body, int statusCode) {
    return text(body, statusCode, null);
  }

  public RuntimeOutput text(String body) {
    return text(body, 200, null);
  }

  public RuntimeOutput send(String body, int statusCode, Map<String, String> headers) {
    return text(body, statusCode, headers);
  }

  public RuntimeOutput send(String body, int statusCode) {
    return send(body, statusCode, null);
  }

  public RuntimeOutput send(String body) {
    return send(body, 200, null);
  }

  /** JSON of a map (as upstream) or of any value {@link Json#encode} can write. */
  public RuntimeOutput json(Object json, int statusCode, Map<String, String> headers) {
    Map<String, String> result = copy(headers);
    result.put("content-type", "application/json");
    return text(Json.encode(json), statusCode, result);
  }

  public RuntimeOutput json(Object json, int statusCode) {
    return json(json, statusCode, null);
  }

  public RuntimeOutput json(Object json) {
    return json(json, 200, null);
  }

  public RuntimeOutput empty() {
    return text("", 204, null);
  }

  public RuntimeOutput redirect(String url, int statusCode, Map<String, String> headers) {
    Map<String, String> result = copy(headers);
    result.put("location", url);
    return text("", statusCode, result);
  }

  public RuntimeOutput redirect(String url, int statusCode) {
    return redirect(url, statusCode, null);
  }

  public RuntimeOutput redirect(String url) {
    return redirect(url, 301, null);
  }
}
