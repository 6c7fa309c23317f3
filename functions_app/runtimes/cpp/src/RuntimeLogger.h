// Open Runtimes v5 for C++: the per-request logger behind context.log / context.error.
// Writes <logs dir>/<id>_logs.log and <id>_errors.log, each opened on first write.
// Implemented in opr_server.cc (linked into every function binary).
#ifndef OPR_CPP_RUNTIME_LOGGER_H
#define OPR_CPP_RUNTIME_LOGGER_H

#include <cstdio>
#include <mutex>
#include <string>

namespace runtime {
class RuntimeLogger {
public:
  bool enabled = false;
  std::string id;
  bool includesNativeInfo = false;

  // headerStatus: x-open-runtimes-logging ("enabled", "disabled" or empty);
  // headerId: x-open-runtimes-log-id (a generated id replaces an empty or invalid one).
  RuntimeLogger(const std::string &headerStatus, const std::string &headerId);
  ~RuntimeLogger();
  RuntimeLogger(const RuntimeLogger &) = delete;
  RuntimeLogger &operator=(const RuntimeLogger &) = delete;

  // One message (cut at 8000 characters) and a newline. type: "log" or "error".
  void write(const std::string &message, const std::string &type = "log", bool native = false);
  void end();

  static std::string generateId(int padding = 7);

private:
  std::mutex mutex;
  std::FILE *logs = nullptr;
  std::FILE *errors = nullptr;
  std::FILE *stream(bool error);
};
} // namespace runtime

#endif // OPR_CPP_RUNTIME_LOGGER_H
