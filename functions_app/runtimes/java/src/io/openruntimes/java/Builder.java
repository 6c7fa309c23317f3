package io.openruntimes.java;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * The build step of a Java deployment, in one JVM: compiles every {@code .java} file of the
 * build directory with javac (the JDK's compiler API), with the runtime classes, the function's
 * own jars (every {@code .jar} of its tree, e.g. {@code libs/*.jar}) and Gson on the class
 * path; checks that the entrypoint's class has {@code main(RuntimeContext)} (a missing one fails
 * the build, with open-runtimes' message); and writes {@code compiled/function.jar}, {@code
 * compiled/main-class} and {@code compiled/classpath} (the function's jars, relative to the
 * output directory) into the output directory.
 *
 * <p>Usage: {@code Builder <build dir> <entrypoint> <output dir>}; extra javac options come
 * from {@code JAVAC_FLAGS}, the system jars from the property {@code opr.systemClasspath}.
 */
public final class Builder {
  static final String OUTPUT = "compiled";

  private Builder() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("Usage: Builder <build dir> <entrypoint> <output dir>");
      System.exit(2);
    }
    try {
      build(Paths.get(args[0]).toAbsolutePath(), args[1], Paths.get(args[2]).toAbsolutePath());
    } catch (BuildError e) {
      System.err.println(e.getMessage());
      System.exit(1);
    }
  }

  static final class BuildError extends Exception {
    BuildError(String message) {
      super(message, null, false, false);
    }
  }

  static void build(Path root, String entrypoint, Path output) throws Exception {
    String entry = entrypoint.startsWith("./") ? entrypoint.substring(2) : entrypoint;
    if (entry.isEmpty() || entry.startsWith("/") || Paths.get(entry).normalize().startsWith("..")) {
      throw new BuildError("Invalid entrypoint: \"" + entrypoint + "\".");
    }
    if (!Files.isRegularFile(root.resolve(entry))) {
      throw new BuildError("Failed to load entrypoint, file " + entry + " does not exist.");
    }
    if (!entry.endsWith(".java")) {
      throw new BuildError(
          "The entrypoint of a Java function is its main class's source file (e.g. src/Main.java),"
              + " not " + entry + ".");
    }
    Path compiled = output.resolve(OUTPUT);
    List<Path> sources = new ArrayList<>();
    List<Path> jars = new ArrayList<>();
    collect(root, compiled, sources, jars);

    List<String> classpath = new ArrayList<>();
    classpath.add(serverJar().toString());
    for (Path jar : jars) {
      classpath.add(jar.toString());
    }
    String system = System.getProperty("opr.systemClasspath", "");
    for (String item : system.split(":")) {
      if (!item.isEmpty() && Files.isRegularFile(Paths.get(item))) {
        classpath.add(item);
      }
    }
    for (String item : classpath) {
      if (item.indexOf(':') >= 0 && !item.equals(classpath.get(0))) {
        throw new BuildError("A jar path must not contain ':': " + item);
      }
    }

    Path classes = Files.createTempDirectory("opr-classes");
    try {
      compile(sources, classes, classpath);
      List<URL> urls = new ArrayList<>();
      urls.add(classes.toUri().toURL());
      for (int i = 1; i < classpath.size(); i++) {
        urls.add(Paths.get(classpath.get(i)).toUri().toURL());
      }
      String className;
      try (URLClassLoader loader =
          new URLClassLoader(urls.toArray(new URL[0]), Builder.class.getClassLoader())) {
        className = Function.resolve(root, entry, loader);
      } catch (Function.ShapeError e) {
        throw new BuildError(e.getMessage());
      }
      Files.createDirectories(compiled);
      writeJar(classes, compiled.resolve("function.jar"));
      Files.write(
          compiled.resolve("main-class"), (className + "\n").getBytes(StandardCharsets.UTF_8));
      Files.write(
          compiled.resolve("classpath"),
          String.join("", relativeJars(jars, output, compiled)).getBytes(StandardCharsets.UTF_8));
      System.out.println("Function class: " + className);
    } finally {
      delete(classes);
    }
  }

  /** The .java and .jar files of the tree (not hidden folders, not a previous output). */
  private static void collect(Path root, Path compiled, List<Path> sources, List<Path> jars)
      throws IOException {
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<Path>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            if (!dir.equals(root)
                && (dir.equals(compiled) || dir.getFileName().toString().startsWith("."))) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            String name = file.getFileName().toString();
            if (attrs.isRegularFile() && name.endsWith(".java")) {
              sources.add(file);
            } else if (attrs.isRegularFile() && name.endsWith(".jar")) {
              jars.add(file);
            }
            return FileVisitResult.CONTINUE;
          }
        });
    sources.sort(Comparator.naturalOrder());
    jars.sort(Comparator.naturalOrder());
  }

  private static Path serverJar() throws Exception {
    return Paths.get(Builder.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  private static void compile(List<Path> sources, Path classes, List<String> classpath)
      throws BuildError {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      throw new BuildError("No Java compiler in this runtime (a JDK is needed to build).");
    }
    List<String> args = new ArrayList<>();
    args.add("-encoding");
    args.add("UTF-8");
    // String concatenation as plain StringBuilder code, not invokedynamic: nothing to spin up at
    // the first request (a shorter cold start), the same behaviour.
    args.add("-XDstringConcat=inline");
    args.add("-d");
    args.add(classes.toString());
    args.add("-cp");
    args.add(String.join(":", classpath));
    String flags = System.getenv("JAVAC_FLAGS");
    if (flags != null && !flags.isBlank()) {
      for (String flag : flags.trim().split("\\s+")) {
        args.add(flag);
      }
    }
    for (Path source : sources) {
      args.add(source.toString());
    }
    System.out.println(
        "Compiling " + sources.size() + " source file(s) with javac "
            + Runtime.version().feature() + ".");
    System.out.flush();
    int status = javac.run(null, System.out, System.err, args.toArray(new String[0]));
    System.out.flush();
    System.err.flush();
    if (status != 0) {
      throw new BuildError("javac failed (exit code " + status + ").");
    }
  }

  /** Each jar as a line, relative to the output directory (copied into it when outside). */
  private static List<String> relativeJars(List<Path> jars, Path output, Path compiled)
      throws IOException {
    List<String> lines = new ArrayList<>();
    for (Path jar : jars) {
      Path relative = output.relativize(jar);
      if (relative.startsWith("..")) {
        Path copy = compiled.resolve("libs").resolve(jar.getFileName());
        Files.createDirectories(copy.getParent());
        Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
        relative = output.relativize(copy);
      }
      lines.add(relative + "\n");
    }
    return lines;
  }

  private static void writeJar(Path classes, Path jar) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    List<Path> files;
    try (Stream<Path> walk = Files.walk(classes)) {
      files = walk.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
    }
    try (OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file, manifest)) {
      for (Path path : files) {
        String name = classes.relativize(path).toString().replace('\\', '/');
        out.putNextEntry(new JarEntry(name));
        Files.copy(path, out);
        out.closeEntry();
      }
    }
  }

  private static void delete(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              path -> {
                try {
                  Files.delete(path);
                } catch (IOException e) {
                  // a temporary folder of the build container
                }
              });
    } catch (IOException e) {
      // same
    }
  }
}
