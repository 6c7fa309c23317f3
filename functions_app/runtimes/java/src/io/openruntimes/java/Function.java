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
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The user's function class, chosen by the entrypoint: the class declared in that source file
 * (its {@code package} plus the file name), e.g. {@code src/Main.java} declaring {@code package
 * io.openruntimes.java.src;} is {@code io.openruntimes.java.src.Main}. Upstream's naming rule
 * ({@code io.openruntimes.java.} + the path with dots) is tried next. Loaded once; a class that
 * cannot serve gives open-runtimes' 503 message.
 */
final class Function {
  static final String SIGNATURE_INVALID =
      "Function signature invalid. Did you forget to export a 'main' function?";
  private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
  private static final Pattern LINE_COMMENT = Pattern.compile("//[^\n]*");
  private static final Pattern PACKAGE =
      Pattern.compile("\\A\\s*(?:@[\\w.]+\\s*)*package\\s+([\\w.\\s]+?)\\s*;");

  final Method method;
  final Object instance;
  final String loadError;

  private Function(Method method, Object instance, String loadError) {
    this.method = method;
    this.instance = instance;
    this.loadError = loadError;
  }

  static Function failed(String message) {
    return new Function(null, null, message);
  }

  static List<String> classNames(Path functionDir, String entrypoint) throws IOException {
    String relative = entrypoint.startsWith("./") ? entrypoint.substring(2) : entrypoint;
    int dot = relative.lastIndexOf('.');
    String stem = dot > relative.lastIndexOf('/') ? relative.substring(0, dot) : relative;
    String simple = stem.substring(stem.lastIndexOf('/') + 1);
    List<String> names = new ArrayList<>();
    String source =
        new String(Files.readAllBytes(functionDir.resolve(relative)), StandardCharsets.UTF_8);
    source = LINE_COMMENT.matcher(BLOCK_COMMENT.matcher(source).replaceAll(" ")).replaceAll(" ");
    Matcher match = PACKAGE.matcher(source);
    if (match.find()) {
      names.add(match.group(1).replaceAll("\\s", "") + "." + simple);
    } else {
      names.add(simple);
    }
    String upstream = "io.openruntimes.java." + stem.replace('/', '.');
    if (!names.contains(upstream)) {
      names.add(upstream);
    }
    return names;
  }

  static Function load(Path functionDir, String entrypoint, String className) {
    List<String> names = new ArrayList<>();
    if (className != null && !className.isEmpty()) {
      names.add(className);
    } else {
      if (entrypoint == null || entrypoint.isEmpty()
          || !Files.isRegularFile(functionDir.resolve(entrypoint))) {
        return failed("Failed to load entrypoint, file " + entrypoint + " does not exist.");
      }
      try {
        names.addAll(classNames(functionDir, entrypoint));
      } catch (IOException | RuntimeException e) {
        return failed("Failed to load module: " + e);
      }
    }
    Class<?> type = null;
    for (String name : names) {
      try {
        type = Class.forName(name, true, ClassLoader.getSystemClassLoader());
        break;
      } catch (ClassNotFoundException | NoClassDefFoundError e) {
        // try the next name
      } catch (ExceptionInInitializerError e) {
        return failed("Failed to load module: " + Server.trace(e.getCause() == null ? e : e.getCause()));
      } catch (LinkageError e) {
        return failed("Failed to load module: " + Server.trace(e));
      }
    }
    if (type == null) {
      return failed("Class not found: " + names.get(0));
    }
    Method main = findMain(type);
    if (main == null) {
      return failed(SIGNATURE_INVALID);
    }
    try {
      main.setAccessible(true);
      Object instance = null;
      if (!Modifier.isStatic(main.getModifiers())) {
        Constructor<?> constructor = type.getDeclaredConstructor();
        constructor.setAccessible(true);
        instance = constructor.newInstance();
      }
      return new Function(main, instance, null);
    } catch (InvocationTargetException e) {
      return failed("Failed to load module: " + Server.trace(e.getCause()));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return failed("Failed to load module: " + Server.trace(e));
    }
  }

  private static Method findMain(Class<?> type) {
    for (Class<?> current = type; current != null; current = current.getSuperclass()) {
      for (Method candidate : current.getDeclaredMethods()) {
        Class<?>[] parameters = candidate.getParameterTypes();
        if (candidate.getName().equals("main")
            && parameters.length == 1
            && parameters[0].isAssignableFrom(RuntimeContext.class)
            && !parameters[0].equals(Object.class)) {
          return candidate;
        }
      }
    }
    return null;
  }

  Object invoke(RuntimeContext context) throws Throwable {
    try {
      return method.invoke(instance, context);
    } catch (InvocationTargetException e) {
      throw e.getCause() == null ? e : e.getCause();
    }
  }

  static String describe(Throwable error) {
    StringWriter out = new StringWriter();
    error.printStackTrace(new PrintWriter(out));
    return out.toString();
  }
}
