#include "../RuntimeResponse.h"
#include "../RuntimeRequest.h"
#include "../RuntimeOutput.h"
#include "../RuntimeContext.h"

#include <algorithm>
#include <any>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace runtime {
class Handler {
public:
  static std::string built() {
    static const std::string text = [] {
      std::ifstream file("/usr/local/server/src/function/built.txt");
      std::stringstream buffer;
      buffer << file.rdbuf();
      return buffer.str();
    }();
    return text;
  }

  static RuntimeOutput main(RuntimeContext &context) {
    RuntimeRequest &req = context.req;
    RuntimeResponse &res = context.res;
    const std::string &path = req.path;

    if (path == "/echo") {
      Json::Value env(Json::objectValue);
      for (char **entry = environ; *entry != nullptr; ++entry) {
        std::string item = *entry;
        std::size_t eq = item.find('=');
        std::string name = item.substr(0, eq);
        if (name.rfind("APPWRITE_FUNCTION_", 0) == 0 || name.rfind("CONFORMANCE_", 0) == 0) {
          env[name] = item.substr(eq + 1);
        }
      }
      Json::Value json;
      json["method"] = req.method;
      json["scheme"] = req.scheme;
      json["host"] = req.host;
      json["port"] = req.port;
      json["path"] = req.path;
      json["query"] = req.query;
      json["queryString"] = req.queryString;
      json["headers"] = req.headers;
      json["bodyText"] = req.bodyText;
      json["bodyJson"] = req.bodyJson;
      json["url"] = req.url;
      json["env"] = env;
      json["built"] = built();
      return res.json(json);
    }
    if (path == "/binary") {
      std::vector<std::byte> bytes = req.bodyBinary;
      std::reverse(bytes.begin(), bytes.end());
      return res.binary(bytes);
    }
    if (path == "/headers") {
      Json::Value headers;
      headers["Content-Type"] = "Text/HTML";
      headers["X-Custom"] = "V";
      headers["x-open-runtimes-x"] = "1";
      return res.text("<b/>", 201, headers);
    }
    if (path == "/json") {
      Json::Value json;
      json["ok"] = true;
      json["list"].append(1);
      json["list"].append(2);
      json["nested"]["a"] = "b";
      return res.json(json);
    }
    if (path == "/redirect") {
      return res.redirect("https://example.com/next", 301);
    }
    if (path == "/empty") {
      return res.empty();
    }
    if (path == "/status") {
      return res.text("teapot", 418);
    }
    if (path == "/cookie") {
      Json::Value headers;
      headers["set-cookie"] = "session=abc; Path=/; HttpOnly";
      return res.text("cookie", 200, headers);
    }
    if (path == "/send") {
      return res.send("sent", 202);
    }
    if (path == "/log") {
      std::cout << "native out" << std::endl;
      Json::Value object;
      object["b"] = 1;
      Json::Value list(Json::arrayValue);
      list.append(1);
      list.append(2);
      context.log("a", object, list, 3, true);
      context.error("problem");
      context.log(std::string(9000, 'x'));
      return res.text("logged");
    }
    if (path == "/objects") {
      Json::Value object;
      object["text"] = "marker-1";
      object["number"] = 42;
      object["list"].append(1);
      object["list"].append(Json::Value(Json::arrayValue));
      object["list"][1].append(2);
      object["list"][1].append(3);
      object["map"]["k"]["v"] = 1;
      object["none"] = Json::Value::null;
      object["flag"] = false;
      object["float"] = 1.5;
      std::map<std::string, std::vector<int>> native{{"vector", {1, 2}}};
      std::optional<int> nothing;
      context.log(object, native, nothing, std::any(std::string("any-text")), 2.5);
      return res.text("objects");
    }
    if (path == "/throw") {
      throw std::runtime_error("boom");
    }
    if (path == "/sleep") {
      double seconds = req.query.isMember("s") ? std::stod(req.query["s"].asString()) : 1.0;
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      return res.text("slept");
    }
    return res.text("unknown path " + path, 404);
  }
};
} // namespace runtime
