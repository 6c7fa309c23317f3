package io.openruntimes.java;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * The per-request logs: {@code <id>_logs.log} and {@code <id>_errors.log} in the logs directory.
 * The files are opened on the first write, so a request that logs nothing leaves none. Each
 * write is cut at 8000 characters; writes after {@link #end()} and failed writes are ignored.
 */
public class RuntimeLogger {
  public static final String TYPE_ERROR = "error";
  public static final String TYPE_LOG = "log";
  static final int LOG_LIMIT = 8000;
  static final String TRUNCATED = "... Log truncated due to size limit (8000 characters)";
  static final String NATIVE_NOTICE =
      "Native logs detected. Use context.log() or context.error() for better experience.";
  private static final Pattern LOG_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private final String id;
  private final String directory;
  private boolean enabled;
  private boolean includesNativeInfo;
  private Writer logs;
  private Writer errors;

  public RuntimeLogger(String status, String id, String directory, boolean development) {
    this.directory = directory;
    this.enabled = status == null || status.isEmpty() || status.equals("enabled");
    if (!enabled) {
      this.id = "";
    } else if (id != null && LOG_ID.matcher(id).matches()) {
      this.id = id;
    } else {
      this.id = development ? "dev" : generateId(7);
    }
  }

  public String getId() {
    return id;
  }

  static String generateId(int padding) {
    Instant now = Instant.now();
    StringBuilder out =
        new StringBuilder(String.format("%08x%05x", now.getEpochSecond(), now.getNano() / 1000));
    for (int i = 0; i < padding; i++) {
      out.append(Integer.toHexString(ThreadLocalRandom.current().nextInt(16)));
    }
    return out.toString();
  }

  static String format(Object message) {
    if (message == null) {
      return "null";
    }
    if (message instanceof Map
        || message instanceof Collection
        || message.getClass().isArray()) {
      try {
        return Json.encode(message);
      } catch (RuntimeException e) {
        return String.valueOf(message);
      }
    }
    try {
      return message.toString();
    } catch (RuntimeException e) {
      return message.getClass().getName();
    }
  }

  static String formatAll(Object[] messages) {
    StringBuilder out = new StringBuilder();
    if (messages == null) {
      messages = new Object[] {null};
    }
    for (int i = 0; i < messages.length; i++) {
      if (i > 0) {
        out.append(' ');
      }
      out.append(format(messages[i]));
      if (out.length() > LOG_LIMIT) {
        break;
      }
    }
    if (out.length() > LOG_LIMIT) {
      out.setLength(LOG_LIMIT);
      out.append(TRUNCATED);
    }
    return out.toString();
  }

  /** Write the messages (space-joined) as they are, without a newline. */
  public void write(Object[] messages, String type, boolean isNative) {
    String text = formatAll(messages);
    synchronized (this) {
      if (!enabled) {
        return;
      }
      if (isNative && !includesNativeInfo) {
        includesNativeInfo = true;
        append(NATIVE_NOTICE, TYPE_LOG);
      }
      append(text, type);
    }
  }

  /** Write the messages followed by a newline (context.log / context.error). */
  public void writeLine(Object[] messages, String type) {
    String text = formatAll(messages) + "\n";
    synchronized (this) {
      if (enabled) {
        append(text, type);
      }
    }
  }

  private void append(String text, String type) {
    try {
      Writer stream = stream(TYPE_ERROR.equals(type));
      stream.write(text);
      stream.flush();
    } catch (IOException | RuntimeException e) {
      // A failed log write never fails the execution.
    }
  }

  private Writer stream(boolean error) throws IOException {
    if (error) {
      if (errors == null) {
        errors = open("_errors.log");
      }
      return errors;
    }
    if (logs == null) {
      logs = open("_logs.log");
    }
    return logs;
  }

  private Writer open(String suffix) throws IOException {
    FileOutputStream file = new FileOutputStream(directory + "/" + id + suffix, true);
    return new OutputStreamWriter(file, StandardCharsets.UTF_8);
  }

  /** Close the files; later writes are ignored. */
  public synchronized void end() {
    if (!enabled) {
      return;
    }
    enabled = false;
    for (Writer stream : new Writer[] {logs, errors}) {
      if (stream != null) {
        try {
          stream.close();
        } catch (IOException e) {
          // ignored
        }
      }
    }
  }
}
