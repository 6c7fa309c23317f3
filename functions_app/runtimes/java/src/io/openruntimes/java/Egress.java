package io.openruntimes.java;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Outbound HTTP(S) for Java's own clients, which ignore {@code HTTP_PROXY} and friends: the
 * container has no network, and the platform's egress proxy listens on loopback (see
 * helpers/bridges.sh). The proxy variables become the JDK's proxy properties ({@code
 * http(s).proxyHost/Port}, {@code http.nonProxyHosts} from {@code NO_PROXY}), which {@code
 * HttpURLConnection}, {@code java.net.http.HttpClient} and clients that use the default {@code
 * ProxySelector} follow. The proxy wants the credentials of the proxy URL, which those clients
 * do not send on their own: so they are pointed at a small local relay that adds the {@code
 * Proxy-Authorization} header to each connection's first request head (a CONNECT, or an
 * absolute-form request) and then pipes the bytes both ways. Properties set by the user (e.g.
 * in {@code JAVA_TOOL_OPTIONS}) are left alone.
 */
final class Egress {
  private static final int HEAD_LIMIT = 64 * 1024;

  private Egress() {}

  static void install(Map<String, String> env) {
    String raw = first(env, "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy");
    if (raw == null || System.getProperty("http.proxyHost") != null
        || System.getProperty("https.proxyHost") != null) {
      return;
    }
    URI proxy;
    try {
      proxy = URI.create(raw.contains("://") ? raw : "http://" + raw);
    } catch (IllegalArgumentException e) {
      return;
    }
    if (proxy.getHost() == null) {
      return;
    }
    String host = proxy.getHost();
    int port = proxy.getPort() > 0 ? proxy.getPort() : 80;
    if (proxy.getUserInfo() != null && !proxy.getUserInfo().isEmpty()) {
      String auth =
          "Basic "
              + Base64.getEncoder()
                  .encodeToString(proxy.getUserInfo().getBytes(StandardCharsets.UTF_8));
      try {
        port = relay(host, port, auth);
        host = "127.0.0.1";
      } catch (IOException e) {
        NativeCapture.REAL_ERR.println("Egress relay not started: " + e);
        return;
      }
    }
    for (String scheme : new String[] {"http", "https"}) {
      System.setProperty(scheme + ".proxyHost", host);
      System.setProperty(scheme + ".proxyPort", String.valueOf(port));
    }
    if (System.getProperty("http.nonProxyHosts") == null) {
      System.setProperty("http.nonProxyHosts", nonProxyHosts(first(env, "NO_PROXY", "no_proxy")));
    }
  }

  private static String first(Map<String, String> env, String... names) {
    for (String name : names) {
      String value = env.get(name);
      if (value != null && !value.isBlank()) {
        return value.trim();
      }
    }
    return null;
  }

  /** NO_PROXY ({@code a,.b.com,::1}) as the JDK's {@code http.nonProxyHosts} patterns. */
  static String nonProxyHosts(String noProxy) {
    Set<String> patterns = new LinkedHashSet<>();
    patterns.add("localhost");
    patterns.add("127.*");
    patterns.add("[::1]");
    if (noProxy != null) {
      for (String entry : noProxy.split(",")) {
        String item = entry.trim().toLowerCase(Locale.ROOT);
        if (item.isEmpty()) {
          continue;
        }
        if (item.startsWith(".")) {
          item = "*" + item;
        } else if (item.contains(":") && !item.startsWith("[")) {
          item = "[" + item + "]";
        }
        patterns.add(item);
      }
    }
    return String.join("|", patterns);
  }

  /** Starts the relay on a loopback port; returns the port. */
  private static int relay(String proxyHost, int proxyPort, String auth) throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    Executor pipes = Executors.newCachedThreadPool(Server.threads("opr-egress"));
    Thread acceptor =
        Server.threads("opr-egress-accept")
            .newThread(
                () -> {
                  while (true) {
                    try {
                      Socket client = listener.accept();
                      pipes.execute(() -> tunnel(client, proxyHost, proxyPort, auth, pipes));
                    } catch (IOException e) {
                      if (listener.isClosed()) {
                        return;
                      }
                    }
                  }
                });
    acceptor.start();
    return listener.getLocalPort();
  }

  private static void tunnel(
      Socket client, String proxyHost, int proxyPort, String auth, Executor pipes) {
    try (Socket c = client;
        Socket upstream = new Socket(proxyHost, proxyPort)) {
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      InputStream in = client.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        if (b < 0 || head.size() >= HEAD_LIMIT) {
          return;
        }
        head.write(b);
        matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      OutputStream out = upstream.getOutputStream();
      out.write(withAuth(head.toString(StandardCharsets.ISO_8859_1), auth));
      out.flush();
      pipes.execute(() -> pipe(in, out, upstream));
      pipe(upstream.getInputStream(), client.getOutputStream(), client);
    } catch (IOException e) {
      // either side went away
    }
  }

  /** The request head with the proxy's credentials (replacing any the client sent). */
  static byte[] withAuth(String head, String auth) {
    String[] lines = head.split("\r\n", -1);
    StringBuilder out = new StringBuilder(lines[0]).append("\r\n");
    out.append("Proxy-Authorization: ").append(auth).append("\r\n");
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        continue;
      }
      if (line.toLowerCase(Locale.ROOT).startsWith("proxy-authorization:")) {
        continue;
      }
      out.append(line).append("\r\n");
    }
    out.append("\r\n");
    return out.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static void pipe(InputStream in, OutputStream out, Socket target) {
    byte[] buffer = new byte[16 * 1024];
    try {
      int read;
      while ((read = in.read(buffer)) >= 0) {
        out.write(buffer, 0, read);
        out.flush();
      }
      target.shutdownOutput();
    } catch (IOException e) {
      try {
        target.close();
      } catch (IOException ignored) {
        // closed already
      }
    }
  }
}
