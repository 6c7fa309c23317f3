package io.openruntimes.java;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A small JSON encoder and decoder (no third-party libraries). Decoding gives {@code
 * LinkedHashMap<String, Object>}, {@code ArrayList<Object>}, {@code String}, {@code Double},
 * {@code Boolean} and {@code null}, as Gson's untyped decoding does. Encoding handles maps,
 * iterables, arrays, records, optionals, enums, numbers, strings and plain objects (their
 * fields); other JDK types are written as their {@code toString()}.
 */
public final class Json {
  private static final int MAX_DEPTH = 200;

  private Json() {}

  // -- encoding ------------------------------------------------------------------------

  public static String encode(Object value) {
    StringBuilder out = new StringBuilder();
    new Encoder(out).write(value, 0);
    return out.toString();
  }

  private static final class Encoder {
    private final StringBuilder out;
    private final IdentityHashMap<Object, Boolean> seen = new IdentityHashMap<>();

    Encoder(StringBuilder out) {
      this.out = out;
    }

    void write(Object value, int depth) {
      if (depth > MAX_DEPTH) {
        throw new JsonException("JSON nesting too deep (or a circular reference)");
      }
      if (value == null) {
        out.append("null");
      } else if (value instanceof CharSequence || value instanceof Character) {
        quote(out, value.toString());
      } else if (value instanceof Boolean) {
        out.append(value);
      } else if (value instanceof Double || value instanceof Float) {
        double number = ((Number) value).doubleValue();
        out.append(Double.isFinite(number) ? value.toString() : "null");
      } else if (value instanceof Number) {
        out.append(value);
      } else if (value instanceof Optional) {
        write(((Optional<?>) value).orElse(null), depth + 1);
      } else if (value instanceof Enum) {
        quote(out, ((Enum<?>) value).name());
      } else if (value instanceof Map || value instanceof Iterable || value.getClass().isArray()) {
        if (seen.put(value, Boolean.TRUE) != null) {
          throw new JsonException("Circular reference in JSON value");
        }
        if (value instanceof Map) {
          writeMap((Map<?, ?>) value, depth);
        } else if (value instanceof Iterable) {
          out.append('[');
          boolean first = true;
          for (Object item : (Iterable<?>) value) {
            if (!first) out.append(',');
            first = false;
            write(item, depth + 1);
          }
          out.append(']');
        } else {
          out.append('[');
          int length = Array.getLength(value);
          for (int i = 0; i < length; i++) {
            if (i > 0) out.append(',');
            write(Array.get(value, i), depth + 1);
          }
          out.append(']');
        }
        seen.remove(value);
      } else if (isGsonElement(value.getClass())) {
        out.append(value.toString()); // Gson's JsonElement prints itself as compact JSON
      } else if (value.getClass().isRecord()) {
        Map<String, Object> fields = new LinkedHashMap<>();
        for (RecordComponent component : value.getClass().getRecordComponents()) {
          try {
            component.getAccessor().setAccessible(true);
            fields.put(component.getName(), component.getAccessor().invoke(value));
          } catch (ReflectiveOperationException | RuntimeException e) {
            fields.put(component.getName(), null);
          }
        }
        write(fields, depth);
      } else if (isPlatformClass(value.getClass())) {
        quote(out, value.toString());
      } else {
        Map<String, Object> fields = fieldsOf(value);
        if (fields == null) {
          quote(out, value.toString());
        } else {
          if (seen.put(value, Boolean.TRUE) != null) {
            throw new JsonException("Circular reference in JSON value");
          }
          write(fields, depth);
          seen.remove(value);
        }
      }
    }

    private void writeMap(Map<?, ?> map, int depth) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (!first) out.append(',');
        first = false;
        quote(out, String.valueOf(entry.getKey()));
        out.append(':');
        write(entry.getValue(), depth + 1);
      }
      out.append('}');
    }
  }

  private static boolean isGsonElement(Class<?> type) {
    for (Class<?> current = type; current != null; current = current.getSuperclass()) {
      if (current.getName().equals("com.google.gson.JsonElement")) {
        return true;
      }
    }
    return false;
  }

  private static boolean isPlatformClass(Class<?> type) {
    String name = type.getName();
    return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.")
        || name.startsWith("sun.") || name.startsWith("com.sun.");
  }

  /** The non-static, non-transient fields of a plain object, or null if they are not readable. */
  private static Map<String, Object> fieldsOf(Object value) {
    Map<String, Object> fields = new LinkedHashMap<>();
    try {
      List<Class<?>> chain = new ArrayList<>();
      for (Class<?> type = value.getClass();
          type != null && type != Object.class && !isPlatformClass(type);
          type = type.getSuperclass()) {
        chain.add(0, type);
      }
      for (Class<?> type : chain) {
        for (Field field : type.getDeclaredFields()) {
          int modifiers = field.getModifiers();
          if (Modifier.isStatic(modifiers)
              || Modifier.isTransient(modifiers)
              || field.isSynthetic()) {
            continue;
          }
          field.setAccessible(true);
          fields.put(field.getName(), field.get(value));
        }
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
    return fields;
  }

  static void quote(StringBuilder out, String text) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default:
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
      }
    }
    out.append('"');
  }

  // -- decoding ------------------------------------------------------------------------

  /** Any JSON value; throws {@link JsonException} on invalid input. */
  public static Object decode(String text) {
    Parser parser = new Parser(text);
    parser.skipSpace();
    Object value = parser.value(0);
    parser.skipSpace();
    if (parser.pos != text.length()) {
      throw parser.error("Unexpected trailing characters");
    }
    return value;
  }

  /** A JSON object; throws {@link JsonException} when the text is not one. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> decodeObject(String text) {
    if (text == null || text.trim().isEmpty()) {
      throw new JsonException("Body is empty");
    }
    Object value = decode(text);
    if (!(value instanceof Map)) {
      throw new JsonException("Expected a JSON object");
    }
    return (Map<String, Object>) value;
  }

  private static final class Parser {
    private final String text;
    int pos;

    Parser(String text) {
      this.text = text;
    }

    JsonException error(String message) {
      return new JsonException(message + " at position " + pos);
    }

    void skipSpace() {
      while (pos < text.length()) {
        char c = text.charAt(pos);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          pos++;
        } else {
          break;
        }
      }
    }

    Object value(int depth) {
      if (depth > MAX_DEPTH) {
        throw error("JSON nesting too deep");
      }
      if (pos >= text.length()) {
        throw error("Unexpected end of input");
      }
      char c = text.charAt(pos);
      switch (c) {
        case '{': return object(depth);
        case '[': return array(depth);
        case '"': return string();
        case 't': return literal("true", Boolean.TRUE);
        case 'f': return literal("false", Boolean.FALSE);
        case 'n': return literal("null", null);
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
          }
          throw error("Unexpected character '" + c + "'");
      }
    }

    private Object literal(String word, Object value) {
      if (!text.startsWith(word, pos)) {
        throw error("Unexpected token");
      }
      pos += word.length();
      return value;
    }

    private Map<String, Object> object(int depth) {
      Map<String, Object> map = new LinkedHashMap<>();
      pos++;
      skipSpace();
      if (pos < text.length() && text.charAt(pos) == '}') {
        pos++;
        return map;
      }
      while (true) {
        skipSpace();
        if (pos >= text.length() || text.charAt(pos) != '"') {
          throw error("Expected a string key");
        }
        String key = string();
        skipSpace();
        expect(':');
        skipSpace();
        map.put(key, value(depth + 1));
        skipSpace();
        if (pos < text.length() && text.charAt(pos) == ',') {
          pos++;
          continue;
        }
        expect('}');
        return map;
      }
    }

    private List<Object> array(int depth) {
      List<Object> list = new ArrayList<>();
      pos++;
      skipSpace();
      if (pos < text.length() && text.charAt(pos) == ']') {
        pos++;
        return list;
      }
      while (true) {
        skipSpace();
        list.add(value(depth + 1));
        skipSpace();
        if (pos < text.length() && text.charAt(pos) == ',') {
          pos++;
          continue;
        }
        expect(']');
        return list;
      }
    }

    private void expect(char c) {
      if (pos >= text.length() || text.charAt(pos) != c) {
        throw error("Expected '" + c + "'");
      }
      pos++;
    }

    private String string() {
      pos++;
      StringBuilder out = new StringBuilder();
      while (true) {
        if (pos >= text.length()) {
          throw error("Unterminated string");
        }
        char c = text.charAt(pos++);
        if (c == '"') {
          return out.toString();
        }
        if (c == '\\') {
          if (pos >= text.length()) {
            throw error("Unterminated string");
          }
          char e = text.charAt(pos++);
          switch (e) {
            case '"': out.append('"'); break;
            case '\\': out.append('\\'); break;
            case '/': out.append('/'); break;
            case 'b': out.append('\b'); break;
            case 'f': out.append('\f'); break;
            case 'n': out.append('\n'); break;
            case 'r': out.append('\r'); break;
            case 't': out.append('\t'); break;
            case 'u':
              if (pos + 4 > text.length()) {
                throw error("Invalid unicode escape");
              }
              try {
                out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
              } catch (NumberFormatException ex) {
                throw error("Invalid unicode escape");
              }
              pos += 4;
              break;
            default:
              throw error("Invalid escape");
          }
        } else if (c < 0x20) {
          throw error("Control character in string");
        } else {
          out.append(c);
        }
      }
    }

    private Double number() {
      int start = pos;
      if (text.charAt(pos) == '-') pos++;
      int digits = pos;
      while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
      if (pos == digits || (text.charAt(digits) == '0' && pos - digits > 1)) {
        throw error("Invalid number");
      }
      if (pos < text.length() && text.charAt(pos) == '.') {
        pos++;
        int fraction = pos;
        while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
        if (pos == fraction) throw error("Invalid number");
      }
      if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
        pos++;
        if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) pos++;
        int exponent = pos;
        while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
        if (pos == exponent) throw error("Invalid number");
      }
      return Double.valueOf(text.substring(start, pos));
    }
  }
}
