// Open Runtimes v5 for C++: context.res. Each method builds a RuntimeOutput for main to return.
#ifndef OPR_CPP_RUNTIME_RESPONSE_H
#define OPR_CPP_RUNTIME_RESPONSE_H

#include "RuntimeOutput.h"
#include <cstddef>
#include <json/json.h>
#include <string>
#include <vector>

namespace runtime {
class RuntimeResponse {
public:
  RuntimeOutput binary(const std::vector<std::byte> &bytes, const int statusCode = 200,
                       const Json::Value &headers = Json::Value(Json::objectValue)) const {
    RuntimeOutput output;
    output.body = bytes;
    output.statusCode = statusCode;
    output.headers = headers.isNull() ? Json::Value(Json::objectValue) : headers;
    return output;
  }

  // Raw bytes held in a std::string (not part of upstream's API).
  RuntimeOutput binary(const std::string &bytes, const int statusCode = 200,
                       const Json::Value &headers = Json::Value(Json::objectValue)) const {
    return text(bytes, statusCode, headers);
  }

  RuntimeOutput text(const std::string &body, const int statusCode = 200,
                     const Json::Value &headers = Json::Value(Json::objectValue)) const {
    const auto *first = reinterpret_cast<const std::byte *>(body.data());
    return binary(std::vector<std::byte>(first, first + body.size()), statusCode, headers);
  }

  // Deprecated: the same as text.
  RuntimeOutput send(const std::string &body, const int statusCode = 200,
                     const Json::Value &headers = Json::Value(Json::objectValue)) const {
    return text(body, statusCode, headers);
  }

  // Compact JSON with content-type application/json. A null value (a Json::Value nothing was
  // set on) is sent as {}, as upstream does.
  RuntimeOutput json(const Json::Value &json, const int statusCode = 200,
                     Json::Value headers = Json::Value(Json::objectValue)) const {
    if (headers.isNull()) {
      headers = Json::Value(Json::objectValue);
    }
    headers["content-type"] = "application/json";
    if (json.isNull()) {
      return text("{}", statusCode, headers);
    }
    Json::StreamWriterBuilder builder;
    builder["indentation"] = "";
    builder["emitUTF8"] = true;
    return text(Json::writeString(builder, json), statusCode, headers);
  }

  RuntimeOutput empty() const { return text("", 204); }

  RuntimeOutput redirect(const std::string &url, const int statusCode = 301,
                         Json::Value headers = Json::Value(Json::objectValue)) const {
    if (headers.isNull()) {
      headers = Json::Value(Json::objectValue);
    }
    headers["location"] = url;
    return text("", statusCode, headers);
  }
};
} // namespace runtime

#endif // OPR_CPP_RUNTIME_RESPONSE_H
