package io.openruntimes.java;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The user's function: a class with {@code main(RuntimeContext)}, as upstream an instance method
 * (a new instance per request, made with the no-argument constructor) or a static one. Which
 * class: the one the entrypoint file declares, i.e. its {@code package} plus the file name
 * ({@code src/Main.java} declaring {@code package io.openruntimes.java.src;} is {@code
 * io.openruntimes.java.src.Main}); upstream's rule ({@code io.openruntimes.java.} + the path
 * with dots) is tried next. The build resolves and checks it ({@link #resolve}); the server
 * loads it by name at the first request ({@link #load}).
 */
final class Function {
  static final String SIGNATURE_INVALID =
      "Function signature invalid. Did you forget to export a 'main' function?";
  private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
  private static final Pattern LINE_COMMENT = Pattern.compile("//[^\n]*");
  private static final Pattern PACKAGE =
      Pattern.compile("\\A\\s*(?:@[\\w.]+(?:\\([^)]*\\))?\\s*)*package\\s+([\\w.\\s]+?)\\s*;");

  /** The entrypoint cannot serve: answered 503 with this message in the errors. */
  static final class LoadError extends Exception {
    LoadError(String message) {
      super(message, null, false, false);
    }
  }

  /** The function does not have the expected shape (a build error). */
  static final class ShapeError extends Exception {
    ShapeError(String message) {
      super(message, null, false, false);
    }
  }

  final Method method;
  final Constructor<?> constructor;
  final String loadError;

  private Function(Method method, Constructor<?> constructor, String loadError) {
    this.method = method;
    this.constructor = constructor;
    this.loadError = loadError;
  }

  // -- which class ---------------------------------------------------------------------

  /** Candidate class names for an entrypoint source file (relative to {@code root}). */
  static List<String> classNames(Path root, String entrypoint) throws IOException {
    String relative = entrypoint.startsWith("./") ? entrypoint.substring(2) : entrypoint;
    int dot = relative.lastIndexOf('.');
    String stem = dot > relative.lastIndexOf('/') ? relative.substring(0, dot) : relative;
    String simple = stem.substring(stem.lastIndexOf('/') + 1);
    List<String> names = new ArrayList<>();
    String source = new String(Files.readAllBytes(root.resolve(relative)), StandardCharsets.UTF_8);
    source = LINE_COMMENT.matcher(BLOCK_COMMENT.matcher(source).replaceAll(" ")).replaceAll(" ");
    Matcher match = PACKAGE.matcher(source);
    names.add(match.find() ? match.group(1).replaceAll("\\s", "") + "." + simple : simple);
    String upstream = "io.openruntimes.java." + stem.replace('/', '.');
    if (!names.contains(upstream)) {
      names.add(upstream);
    }
    return names;
  }

  /**
   * The build's check: the class of the entrypoint (loaded, not initialised, with {@code loader})
   * has a usable {@code main(RuntimeContext)}. Returns its name; throws ShapeError otherwise.
   */
  static String resolve(Path root, String entrypoint, ClassLoader loader)
      throws IOException, ShapeError {
    List<String> names = classNames(root, entrypoint);
    for (String name : names) {
      Class<?> type;
      try {
        type = Class.forName(name, false, loader);
      } catch (ClassNotFoundException e) {
        continue;
      } catch (LinkageError e) {
        throw new ShapeError("Failed to load " + name + ": " + e);
      }
      try {
        find(type);
      } catch (LinkageError e) {
        throw new ShapeError("Failed to load " + name + ": " + e);
      }
      return name;
    }
    throw new ShapeError(
        "Class not found: "
            + String.join(" or ", names)
            + ". "
            + entrypoint
            + " must declare the public class named after the file, in its package"
            + " (e.g. package io.openruntimes.java.src; for src/Main.java).");
  }

  /** The main method (and the constructor, for an instance method) of a function class. */
  private static Function find(Class<?> type) throws ShapeError {
    Method main = null;
    for (Class<?> current = type;
        current != null && main == null;
        current = current.getSuperclass()) {
      for (Method candidate : current.getDeclaredMethods()) {
        Class<?>[] parameters = candidate.getParameterTypes();
        if (candidate.getName().equals("main")
            && parameters.length == 1
            && parameters[0] == RuntimeContext.class
            && !candidate.isBridge()) {
          main = candidate;
          break;
        }
      }
    }
    if (main == null) {
      throw new ShapeError(
          SIGNATURE_INVALID
              + " "
              + type.getName()
              + " must have 'public RuntimeOutput main(RuntimeContext context)'.");
    }
    Constructor<?> constructor = null;
    if (!Modifier.isStatic(main.getModifiers())) {
      if (Modifier.isAbstract(type.getModifiers()) || type.isInterface()) {
        throw new ShapeError(type.getName() + " is abstract: its main cannot be called.");
      }
      if (type.getEnclosingClass() != null && !Modifier.isStatic(type.getModifiers())) {
        throw new ShapeError(type.getName() + " is an inner class: make it static or top-level.");
      }
      try {
        constructor = type.getDeclaredConstructor();
      } catch (NoSuchMethodException e) {
        throw new ShapeError(
            type.getName() + " needs a constructor without parameters to call its main.");
      }
    }
    return new Function(main, constructor, null);
  }

  /** The function class, loaded and initialised by the application class loader. */
  static Function load(String className) {
    Class<?> type;
    try {
      type = Class.forName(className, true, ClassLoader.getSystemClassLoader());
    } catch (ClassNotFoundException e) {
      return new Function(null, null, "Class not found: " + className);
    } catch (ExceptionInInitializerError e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return new Function(null, null, "Failed to load module: " + describe(cause));
    } catch (LinkageError e) {
      return new Function(null, null, "Failed to load module: " + describe(e));
    }
    try {
      Function function = find(type);
      function.method.setAccessible(true);
      if (function.constructor != null) {
        function.constructor.setAccessible(true);
      }
      return function;
    } catch (ShapeError e) {
      return new Function(null, null, SIGNATURE_INVALID);
    } catch (RuntimeException | LinkageError e) {
      return new Function(null, null, "Failed to load module: " + describe(e));
    }
  }

  // -- calling it ----------------------------------------------------------------------

  /** Calls main (on a new instance, unless it is static) and waits for a future it returns. */
  Object invoke(RuntimeContext context) throws Throwable {
    try {
      Object instance = constructor == null ? null : constructor.newInstance();
      Object result = method.invoke(instance, context);
      while (result instanceof CompletionStage || result instanceof Future) {
        Future<?> future =
            result instanceof Future
                ? (Future<?>) result
                : ((CompletionStage<?>) result).toCompletableFuture();
        try {
          result = future.get();
        } catch (ExecutionException e) {
          throw e.getCause() == null ? e : e.getCause();
        }
      }
      return result;
    } catch (InvocationTargetException e) {
      throw e.getCause() == null ? e : e.getCause();
    }
  }

  // -- traces --------------------------------------------------------------------------

  private static final String[] RUNTIME_FRAMES = {
    "io.openruntimes.java.Function",
    "io.openruntimes.java.Server",
    "java.util.concurrent.",
    "java.lang.Thread",
    "java.lang.reflect.",
    "jdk.internal.reflect.",
  };

  private static boolean isRuntimeFrame(StackTraceElement frame) {
    String name = frame.getClassName();
    for (String prefix : RUNTIME_FRAMES) {
      if (name.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The stack trace of an error raised by user code, without the outermost frames of the
   * runtime (its worker thread, reflection and this server), for the error and its causes.
   */
  static String describe(Throwable error) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<Throwable> pending = new ArrayList<>();
    pending.add(error);
    while (!pending.isEmpty()) {
      Throwable current = pending.remove(pending.size() - 1);
      if (current == null || !seen.add(current)) {
        continue;
      }
      StackTraceElement[] frames = current.getStackTrace();
      int end = frames.length;
      while (end > 1 && isRuntimeFrame(frames[end - 1])) {
        end--;
      }
      if (end < frames.length) {
        try {
          current.setStackTrace(Arrays.copyOf(frames, end));
        } catch (RuntimeException e) {
          // an immutable trace stays whole
        }
      }
      pending.add(current.getCause());
      pending.addAll(Arrays.asList(current.getSuppressed()));
    }
    StringWriter out = new StringWriter();
    error.printStackTrace(new PrintWriter(out));
    return out.toString();
  }
}
