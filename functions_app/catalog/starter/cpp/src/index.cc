// The runtime compiles this file with its server and calls runtime::Handler::main for each
// request: context.req is the request, context.res builds the response, context.log() and
// context.error() write to the execution's logs. JSON values are jsoncpp's Json::Value.
#include "../RuntimeResponse.h"
#include "../RuntimeRequest.h"
#include "../RuntimeOutput.h"
#include "../RuntimeContext.h"

#include <cstdlib>
#include <string>

namespace runtime {
class Handler {
public:
  static std::string env(const char *name, const std::string &fallback) {
    const char *value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::string(value) : fallback;
  }

  static RuntimeOutput main(RuntimeContext &context) {
    RuntimeRequest &req = context.req;
    RuntimeResponse &res = context.res;

    if (req.path == "/ping") {
      return res.text("Pong");
    }

    const std::string greeting = env("GREETING", "Hello");
    const std::string name = env("APPWRITE_FUNCTION_NAME", "function");
    context.log(greeting + " from " + name + ": " + req.method + " " + req.path);

    Json::Value json;
    json["message"] = greeting + " from " + name + "!";
    json["method"] = req.method;
    json["path"] = req.path;
    json["query"] = req.query;
    json["runtime"] = env("APPWRITE_FUNCTION_RUNTIME_NAME", "") + " " +
                      env("APPWRITE_FUNCTION_RUNTIME_VERSION", "");
    return res.json(json);
  }
};
} // namespace runtime
