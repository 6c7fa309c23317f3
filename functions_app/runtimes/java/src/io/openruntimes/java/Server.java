package io.openruntimes.java;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open Runtimes v5 function server for Java, standard library only.
 *
 * <p>Usage: {@code Server <function class>}. Listens on the Unix socket {@code
 * OPEN_RUNTIMES_SOCKET} when set (bound under a temporary name, then renamed, so the path
 * appearing means the server accepts), else on TCP {@code 0.0.0.0:${OPEN_RUNTIMES_PORT:-3000}}.
 * Each connection has a thread (HTTP/1.1 keep-alive); each request runs the function's {@code
 * main(RuntimeContext)} on a worker thread of its own, so requests are served concurrently and
 * the soft timeout ({@code x-open-runtimes-timeout}) can answer while the function still runs.
 */
public final class Server {
  static final String TEXT_PLAIN = "text/plain; charset=utf-8";
  static final String SECRET_ERROR =
      "Unauthorized. Provide correct \"x-open-runtimes-secret\" header.";
  static final String TIMEOUT_ERROR =
      "Header \"x-open-runtimes-timeout\" must be an integer greater than 0.";
  static final String RETURN_MISSING =
      "Return statement missing. return context.res.empty() if no response is expected.";
  static final String TIMED_OUT = "Execution timed out.";
  private static final Set<String> SKIPPED_HEADERS =
      Set.of("content-length", "transfer-encoding", "connection");
  /** A connection that waits this long for the start of a request is closed. */
  static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(75);
  /** A request (head and body) that takes this long to arrive is dropped. */
  static final long READ_NANOS = TimeUnit.SECONDS.toNanos(300);

  private final String secret;
  private final String logsDir;
  private final boolean development;
  private final Map<String, String> forcedHeaders;
  private final String className;
  private final ExecutorService workers = Executors.newCachedThreadPool(threads("opr-worker"));
  private final ExecutorService connections =
      Executors.newCachedThreadPool(threads("opr-connection"));
  private final Set<Connection> open = ConcurrentHashMap.newKeySet();
  private Function function;

  Server(Map<String, String> env, String className) {
    this.secret = env.getOrDefault("OPEN_RUNTIMES_SECRET", "");
    this.logsDir = env.getOrDefault("OPEN_RUNTIMES_LOGS_DIR", "/mnt/logs");
    this.development = "development".equals(env.get("OPEN_RUNTIMES_ENV"));
    this.forcedHeaders = parseHeaders(env.get("OPEN_RUNTIMES_HEADERS"));
    this.className = className;
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--selftest")) {
      SelfTest.run();
      return;
    }
    if (args.length != 1) {
      NativeCapture.REAL_ERR.println("Usage: Server <function class>");
      System.exit(2);
    }
    NativeCapture.install();
    Egress.install(System.getenv());
    Server server = new Server(System.getenv(), args[0]);
    String socket = System.getenv("OPEN_RUNTIMES_SOCKET");
    String port = System.getenv("OPEN_RUNTIMES_PORT");
    ServerSocketChannel listener =
        server.listen(socket, port == null || port.isEmpty() ? 3000 : Integer.parseInt(port));
    NativeCapture.REAL_OUT.println("HTTP server successfully started!");
    server.serve(listener);
  }

  /** Threads that do not inherit the native-capture buffer of the thread that made them. */
  static ThreadFactory threads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread =
          new Thread(null, runnable, prefix + "-" + count.incrementAndGet(), 0, false);
      thread.setDaemon(true);
      return thread;
    };
  }

  static Map<String, String> parseHeaders(String json) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (json == null || json.isBlank()) {
      return headers;
    }
    try {
      Object parsed = Json.decode(json);
      if (parsed instanceof Map) {
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) parsed).entrySet()) {
          Object value = entry.getValue();
          String text;
          if (value instanceof Double && ((Double) value) == Math.rint((Double) value)
              && !((Double) value).isInfinite()) {
            text = String.valueOf(((Double) value).longValue());
          } else {
            text = value instanceof String ? (String) value : Json.encode(value);
          }
          headers.put(String.valueOf(entry.getKey()).toLowerCase(Locale.ROOT), text);
        }
      }
    } catch (RuntimeException e) {
      NativeCapture.REAL_ERR.println("Ignoring invalid OPEN_RUNTIMES_HEADERS: " + e.getMessage());
    }
    return headers;
  }

  // -- listening -----------------------------------------------------------------------

  ServerSocketChannel listen(String socketPath, int port) throws IOException {
    if (socketPath == null || socketPath.isEmpty()) {
      ServerSocketChannel listener = ServerSocketChannel.open();
      listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      listener.bind(new InetSocketAddress("0.0.0.0", port), 1024);
      return listener;
    }
    Path target = Paths.get(socketPath);
    Path staging = Paths.get(socketPath + "." + ProcessHandle.current().pid() + ".tmp");
    Files.deleteIfExists(staging);
    ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listener.bind(UnixDomainSocketAddress.of(staging), 1024);
    Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rw-rw-rw-"));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    Files.deleteIfExists(target);
                    Files.deleteIfExists(staging);
                  } catch (IOException e) {
                    // the folder goes with the container anyway
                  }
                }));
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    return listener;
  }

  void serve(ServerSocketChannel listener) throws IOException {
    Thread reaper = threads("opr-reaper").newThread(this::reap);
    reaper.start();
    boolean tcp = !(listener.getLocalAddress() instanceof UnixDomainSocketAddress);
    while (true) {
      SocketChannel channel = listener.accept();
      if (tcp) {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      }
      Connection connection = new Connection(channel);
      open.add(connection);
      try {
        connections.execute(connection);
      } catch (RuntimeException | OutOfMemoryError e) { // no thread to be had (pids limit)
        open.remove(connection);
        connection.close();
      }
    }
  }

  /** Closes connections that wait too long for (the rest of) a request. */
  private void reap() {
    while (true) {
      try {
        Thread.sleep(5000);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      for (Connection connection : open) {
        if (now - connection.deadline > 0) {
          connection.close();
        }
      }
    }
  }

  /** One client connection: requests are read and answered in turn (keep-alive). */
  final class Connection implements Runnable {
    final SocketChannel channel;
    volatile long deadline = System.nanoTime() + IDLE_NANOS;

    Connection(SocketChannel channel) {
      this.channel = channel;
    }

    void close() {
      try {
        channel.close();
      } catch (IOException e) {
        // already closed
      }
    }

    @Override
    public void run() {
      Http.Reader reader = new Http.Reader(channel, this);
      try {
        while (true) {
          deadline = System.nanoTime() + IDLE_NANOS;
          Http.Request request;
          try {
            request = reader.read();
          } catch (Http.Error error) {
            Http.Response response = Http.Response.text(error.status, error.getMessage(), null);
            Http.write(channel, Http.serialize(response, false, false));
            return;
          }
          if (request == null) {
            return;
          }
          deadline = System.nanoTime() + (1L << 62); // being answered: never idle
          Http.Response response = handle(request);
          boolean head = request.method.equals("HEAD");
          Http.write(channel, Http.serialize(response, request.keepAlive, head));
          if (!request.keepAlive) {
            return;
          }
        }
      } catch (IOException | RuntimeException e) {
        // the client went away (or the reaper closed an idle connection)
      } finally {
        open.remove(this);
        close();
      }
    }

    /** The first bytes of a request arrived: it now has READ_NANOS to arrive whole. */
    void reading() {
      deadline = System.nanoTime() + READ_NANOS;
    }
  }

  // -- requests ------------------------------------------------------------------------

  Http.Response handle(Http.Request request) {
    String target = request.target;
    int question = target.indexOf('?');
    String path = question >= 0 ? target.substring(0, question) : target;
    if (path.equals("/__opr/health")) {
      return Http.Response.text(200, "OK", null);
    }
    if (path.equals("/__opr/timings")) {
      return new Http.Response(200, plainHeaders(), readTimings());
    }
    if (!secret.isEmpty() && !secret.equals(request.header("x-open-runtimes-secret"))) {
      return Http.Response.text(500, SECRET_ERROR, null);
    }
    String timeoutHeader = request.header("x-open-runtimes-timeout");
    long timeout = 0;
    if (!timeoutHeader.isEmpty()) {
      timeout = parseTimeout(timeoutHeader);
      if (timeout <= 0) {
        return Http.Response.text(500, TIMEOUT_ERROR, null);
      }
    }
    RuntimeLogger logger =
        new RuntimeLogger(
            request.header("x-open-runtimes-logging"),
            request.header("x-open-runtimes-log-id"),
            logsDir,
            development);
    try {
      return action(request, logger, timeout);
    } catch (RuntimeException | Error e) {
      logger.write(new Object[] {Function.describe(e)}, RuntimeLogger.TYPE_ERROR, false);
      return Http.Response.text(500, "", logger.getId());
    } finally {
      logger.end();
    }
  }

  static long parseTimeout(String header) {
    for (int i = 0; i < header.length(); i++) {
      if (header.charAt(i) < '0' || header.charAt(i) > '9') {
        return -1;
      }
    }
    try {
      return Long.parseLong(header);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE / 2; // more digits than a long holds: no practical limit
    }
  }

  private static List<String[]> plainHeaders() {
    List<String[]> headers = new ArrayList<>();
    headers.add(new String[] {"content-type", TEXT_PLAIN});
    return headers;
  }

  private static byte[] readTimings() {
    try {
      return Files.readAllBytes(Paths.get("/mnt/telemetry/timings.txt"));
    } catch (IOException e) {
      return new byte[0];
    }
  }

  /** The function's class, loaded (and initialised) once; a failure is kept and reported. */
  private synchronized Function function() {
    if (function == null) {
      function = Function.load(className);
    }
    return function;
  }

  /** Runs the function on a worker thread, its native output going to {@code captured}. */
  private Future<Object> submit(RuntimeContext context, NativeCapture.Buffer captured) {
    return workers.submit(
        () -> {
          NativeCapture.attach(captured);
          try {
            Function loaded = function();
            if (loaded.loadError != null) {
              throw new Function.LoadError(loaded.loadError);
            }
            return loaded.invoke(context);
          } catch (Exception | Error e) {
            throw e;
          } catch (Throwable e) {
            throw new ExecutionException(e); // neither Exception nor Error: unwrapped below
          } finally {
            NativeCapture.detach();
          }
        });
  }

  private Http.Response action(Http.Request request, RuntimeLogger logger, long timeout) {
    RuntimeContext context = buildContext(request, logger);
    NativeCapture.Buffer captured = new NativeCapture.Buffer();
    Object output = null;
    boolean failed = false;
    int failedStatus = 500;
    Future<Object> future;
    try {
      future = submit(context, captured);
    } catch (RuntimeException | OutOfMemoryError e) { // no thread to be had (pids limit)
      context.error("The runtime could not start a thread for this request: " + e);
      return Http.Response.text(503, "", logger.getId());
    }
    try {
      output = timeout > 0 ? future.get(timeout, TimeUnit.SECONDS) : future.get();
    } catch (TimeoutException e) {
      future.cancel(true);
      context.error(TIMED_OUT);
      failed = true;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof ExecutionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof Function.LoadError) {
        context.error(cause.getMessage());
        failedStatus = 503;
      } else {
        context.error(Function.describe(cause));
      }
      failed = true;
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      context.error("The request was interrupted.");
      failed = true;
    } finally {
      String text = captured.close();
      if (!text.isEmpty()) {
        logger.write(new Object[] {text}, RuntimeLogger.TYPE_LOG, true);
      }
    }
    if (failed) {
      return Http.Response.text(failedStatus, "", logger.getId());
    }
    if (output == null) {
      context.error(RETURN_MISSING);
      return Http.Response.text(500, "", logger.getId());
    }
    if (!(output instanceof RuntimeOutput)) {
      context.error(
          "Function returned "
              + output.getClass().getName()
              + "; return one of the context.getRes() results (RuntimeOutput).");
      return Http.Response.text(500, "", logger.getId());
    }
    try {
      return normalise((RuntimeOutput) output, logger.getId());
    } catch (IllegalArgumentException e) {
      context.error(e.getMessage());
      return Http.Response.text(500, "", logger.getId());
    }
  }

  RuntimeContext buildContext(Http.Request request, RuntimeLogger logger) {
    String target = request.target;
    int question = target.indexOf('?');
    String path = question >= 0 ? target.substring(0, question) : target;
    String queryString = question >= 0 ? target.substring(question + 1) : "";
    Map<String, String> query = new LinkedHashMap<>();
    for (String param : queryString.split("&")) {
      int equals = param.indexOf('=');
      String key = equals >= 0 ? param.substring(0, equals) : param;
      if (!key.isEmpty()) {
        query.put(key, equals >= 0 ? param.substring(equals + 1) : "");
      }
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (String[] header : request.headers) {
      if (!header[0].startsWith("x-open-runtimes-")) {
        headers.putIfAbsent(header[0], header[1]);
      }
    }
    headers.putAll(forcedHeaders);
    String scheme = headers.getOrDefault("x-forwarded-proto", "http");
    int defaultPort = scheme.equals("https") ? 443 : 80;
    String hostHeader = headers.getOrDefault("host", "");
    String host = hostHeader;
    int port = defaultPort;
    int bracket = hostHeader.startsWith("[") ? hostHeader.indexOf(']') : -1;
    int colon = hostHeader.indexOf(':', Math.max(0, bracket));
    if (colon >= 0) {
      host = hostHeader.substring(0, colon);
      String digits = hostHeader.substring(colon + 1);
      boolean numeric = digits.chars().allMatch(Character::isDigit);
      if (!digits.isEmpty() && digits.length() <= 5 && numeric) {
        port = Integer.parseInt(digits);
      }
    }
    StringBuilder url = new StringBuilder(scheme).append("://").append(host);
    if (port != defaultPort) {
      url.append(':').append(port);
    }
    url.append(path);
    if (!queryString.isEmpty()) {
      url.append('?').append(queryString);
    }
    RuntimeRequest req =
        new RuntimeRequest(
            request.method,
            scheme,
            host,
            port,
            path,
            query,
            queryString,
            headers,
            request.body,
            url.toString());
    return new RuntimeContext(req, new RuntimeResponse(), logger);
  }

  /** The function's output as the HTTP response: v5's header and content-type rules. */
  static Http.Response normalise(RuntimeOutput output, String logId) {
    int status = output.getStatusCode();
    if (status < 100 || status > 999) {
      throw new IllegalArgumentException("Invalid response status code: " + status);
    }
    byte[] body = output.getBody() == null ? new byte[0] : output.getBody();
    List<String[]> headers = new ArrayList<>();
    String contentType = "text/plain";
    Map<String, String> given = output.getHeaders();
    if (given != null) {
      for (Map.Entry<String, String> entry : given.entrySet()) {
        if (entry.getKey() == null || entry.getValue() == null) {
          continue;
        }
        String name = entry.getKey().toLowerCase(Locale.ROOT);
        if (name.startsWith("x-open-runtimes-") || SKIPPED_HEADERS.contains(name)) {
          continue;
        }
        if (!Http.isToken(name)) {
          throw new IllegalArgumentException("Invalid response header name: " + entry.getKey());
        }
        String value = checkValue(entry.getValue());
        if (name.equals("content-type")) {
          contentType = value;
        } else {
          headers.add(new String[] {name, value});
        }
      }
    }
    contentType = contentType.toLowerCase(Locale.ROOT);
    if (!contentType.startsWith("multipart/") && !contentType.contains("charset=")) {
      contentType += "; charset=utf-8";
    }
    headers.add(0, new String[] {"content-type", contentType});
    headers.add(new String[] {"x-open-runtimes-log-id", logId});
    return new Http.Response(status, headers, body);
  }

  private static String checkValue(String value) {
    if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("Invalid response header value: " + value);
    }
    return value;
  }

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
