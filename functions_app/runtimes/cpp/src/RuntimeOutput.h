// Open Runtimes v5 for C++: what runtime::Handler::main returns (built by context.res.*).
#ifndef OPR_CPP_RUNTIME_OUTPUT_H
#define OPR_CPP_RUNTIME_OUTPUT_H

#include <cstddef>
#include <json/value.h>
#include <string>
#include <vector>

namespace runtime {
struct RuntimeOutput {
  std::vector<std::byte> body;
  int statusCode = 200;
  Json::Value headers = Json::Value(Json::objectValue);
};
} // namespace runtime

#endif // OPR_CPP_RUNTIME_OUTPUT_H
