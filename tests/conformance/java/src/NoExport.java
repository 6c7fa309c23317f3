package io.openruntimes.java.src;

import io.openruntimes.java.RuntimeContext;
import io.openruntimes.java.RuntimeOutput;

public class NoExport {
  public RuntimeOutput handler(RuntimeContext context) {
    return context.getRes().text("never");
  }
}
