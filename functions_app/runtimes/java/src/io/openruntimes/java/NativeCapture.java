package io.openruntimes.java;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Native output capture. {@code System.out} and {@code System.err} are replaced once, at start,
 * by streams that write into the buffer of the request the current thread works for (threads
 * the function starts inherit it), or to the real stdout/stderr outside of any request. So
 * concurrent requests never see each other's output.
 */
final class NativeCapture {
  /** Enough bytes for the 8000 characters a native log write keeps. */
  private static final int MAX_BYTES = 64 * 1024;

  private static final InheritableThreadLocal<Buffer> CURRENT = new InheritableThreadLocal<>();
  static final PrintStream REAL_OUT =
      new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
  static final PrintStream REAL_ERR =
      new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);

  private NativeCapture() {}

  static void install() {
    System.setOut(new PrintStream(new Dispatch(REAL_OUT), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(new Dispatch(REAL_ERR), true, StandardCharsets.UTF_8));
  }

  static void attach(Buffer buffer) {
    CURRENT.set(buffer);
  }

  static void detach() {
    CURRENT.remove();
  }

  /** One request's captured output. Once closed, writes go to the real streams. */
  static final class Buffer {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private boolean closed;

    synchronized boolean write(byte[] data, int offset, int length) {
      if (closed) {
        return false;
      }
      int room = MAX_BYTES - bytes.size();
      if (room > 0) {
        bytes.write(data, offset, Math.min(room, length));
      }
      return true;
    }

    /** Stop capturing; returns the text captured so far. */
    synchronized String close() {
      closed = true;
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }

  private static final class Dispatch extends OutputStream {
    private final PrintStream real;

    Dispatch(PrintStream real) {
      this.real = real;
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] data, int offset, int length) {
      Buffer buffer = CURRENT.get();
      if (buffer == null || !buffer.write(data, offset, length)) {
        real.write(data, offset, length);
      }
    }

    @Override
    public void flush() {
      real.flush();
    }
  }
}
