package io.openruntimes.java;

/** The {@code context} given to {@code main}: the request, the response builder and logging. */
public class RuntimeContext {
  public final RuntimeRequest req;
  public final RuntimeResponse res;
  private final RuntimeLogger logger;

  public RuntimeContext(RuntimeRequest req, RuntimeResponse res, RuntimeLogger logger) {
    this.req = req;
    this.res = res;
    this.logger = logger;
  }

  public RuntimeRequest getReq() {
    return this.req;
  }

  public RuntimeResponse getRes() {
    return this.res;
  }

  /** Space-joined messages (maps, collections and arrays as JSON) to the logs, one line. */
  public void log(Object... messages) {
    logger.writeLine(messages, RuntimeLogger.TYPE_LOG);
  }

  /** Like {@link #log}, to the errors. */
  public void error(Object... messages) {
    logger.writeLine(messages, RuntimeLogger.TYPE_ERROR);
  }
}
