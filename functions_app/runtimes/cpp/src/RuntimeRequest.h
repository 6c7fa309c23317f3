// Open Runtimes v5 for C++: context.req, filled by the server before main runs.
#ifndef OPR_CPP_RUNTIME_REQUEST_H
#define OPR_CPP_RUNTIME_REQUEST_H

#include <any>
#include <cstddef>
#include <json/value.h>
#include <string>
#include <vector>

namespace runtime {
struct RuntimeRequest {
  std::string method;
  std::string scheme = "http";
  std::string host;
  int port = 80;
  std::string path = "/";
  Json::Value query = Json::Value(Json::objectValue); // {"key": "value"}, values as strings
  std::string queryString;
  Json::Value headers = Json::Value(Json::objectValue); // lower-cased names, string values
  // Deprecated: Json::Value (bodyJson, or {} when empty) for an application/json
  // content-type, else std::string (bodyText).
  std::any body;
  std::vector<std::byte> bodyBinary;
  std::string bodyRaw; // deprecated alias of bodyText
  std::string bodyText;
  Json::Value bodyJson; // null when the body is empty or not valid JSON
  std::string url;
};
} // namespace runtime

#endif // OPR_CPP_RUNTIME_REQUEST_H
