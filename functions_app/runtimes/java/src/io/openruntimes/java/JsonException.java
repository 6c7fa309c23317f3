package io.openruntimes.java;

/** Invalid JSON (for example from {@link RuntimeRequest#getBodyJson()}), or a value that cannot
 * be written as JSON. Unchecked, as Gson's JsonSyntaxException is upstream. */
public class JsonException extends RuntimeException {
  public JsonException(String message) {
    super(message);
  }
}
