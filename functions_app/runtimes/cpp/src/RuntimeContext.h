// Open Runtimes v5 for C++: the context given to runtime::Handler::main.
//
//   context.req            the request (RuntimeRequest.h)
//   context.res            response builders (RuntimeResponse.h)
//   context.log(a, b...)   to the execution's logs; context.error(a, b...) to its errors
//
// log and error take any number of values, joined with a space: strings as they are,
// numbers and booleans as text, Json::Value objects and arrays (and standard containers,
// std::optional, std::pair, std::any holding those) as compact JSON, and anything else with an
// operator<<. Each call is cut at 8000 characters and ends with a newline.
#ifndef OPR_CPP_RUNTIME_CONTEXT_H
#define OPR_CPP_RUNTIME_CONTEXT_H

#include "RuntimeLogger.h"
#include "RuntimeOutput.h"
#include "RuntimeRequest.h"
#include "RuntimeResponse.h"

#include <any>
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <exception>
#include <json/json.h>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace runtime {
namespace format {

template <typename T, typename = void> struct is_streamable : std::false_type {};
template <typename T>
struct is_streamable<T, std::void_t<decltype(std::declval<std::ostream &>() << std::declval<const T &>())>>
    : std::true_type {};

template <typename T, typename = void> struct is_map : std::false_type {};
template <typename T>
struct is_map<T, std::void_t<typename T::key_type, typename T::mapped_type,
                             decltype(std::declval<const T &>().begin())>> : std::true_type {};

template <typename T, typename = void> struct is_range : std::false_type {};
template <typename T>
struct is_range<T, std::void_t<typename T::value_type, decltype(std::declval<const T &>().begin()),
                               decltype(std::declval<const T &>().end())>> : std::true_type {};

template <typename T> struct is_optional : std::false_type {};
template <typename U> struct is_optional<std::optional<U>> : std::true_type {};

template <typename T> struct is_pair : std::false_type {};
template <typename A, typename B> struct is_pair<std::pair<A, B>> : std::true_type {};

template <typename T>
inline constexpr bool is_char_array_v =
    std::is_array_v<T> && std::is_same_v<std::remove_cv_t<std::remove_extent_t<T>>, char>;

template <typename T>
inline constexpr bool is_text_v =
    std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
    std::is_same_v<T, const char *> || std::is_same_v<T, char *>;

inline std::string typeName(const std::type_info &type) {
  int status = 0;
  char *name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string result = status == 0 && name != nullptr ? name : type.name();
  std::free(name);
  return result;
}

inline std::string number(double value) {
  char buffer[40];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) {
      break;
    }
  }
  return buffer;
}

inline std::string compact(const Json::Value &value) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  builder["emitUTF8"] = true;
  builder["precision"] = 16;
  return Json::writeString(builder, value);
}

Json::Value anyToJson(const std::any &value);

template <typename T> Json::Value toJson(const T &value) {
  using D = std::decay_t<T>;
  if constexpr (is_char_array_v<T>) {
    return Json::Value(std::string(value));
  } else if constexpr (std::is_same_v<D, Json::Value>) {
    return value;
  } else if constexpr (std::is_same_v<D, std::any>) {
    return anyToJson(value);
  } else if constexpr (std::is_same_v<D, std::nullptr_t> || std::is_same_v<D, std::nullopt_t>) {
    return Json::Value(Json::nullValue);
  } else if constexpr (std::is_same_v<D, bool>) {
    return Json::Value(value);
  } else if constexpr (std::is_same_v<D, char>) {
    return Json::Value(std::string(1, value));
  } else if constexpr (std::is_integral_v<D> && std::is_signed_v<D>) {
    return Json::Value(static_cast<Json::Int64>(value));
  } else if constexpr (std::is_integral_v<D>) {
    return Json::Value(static_cast<Json::UInt64>(value));
  } else if constexpr (std::is_floating_point_v<D>) {
    return Json::Value(static_cast<double>(value));
  } else if constexpr (std::is_same_v<D, const char *> || std::is_same_v<D, char *>) {
    return value == nullptr ? Json::Value(Json::nullValue) : Json::Value(value);
  } else if constexpr (is_text_v<D>) {
    return Json::Value(std::string(value));
  } else if constexpr (is_optional<D>::value) {
    return value ? toJson(*value) : Json::Value(Json::nullValue);
  } else if constexpr (is_pair<D>::value) {
    Json::Value array(Json::arrayValue);
    array.append(toJson(value.first));
    array.append(toJson(value.second));
    return array;
  } else if constexpr (is_map<D>::value) {
    Json::Value object(Json::objectValue);
    for (const auto &[key, item] : value) {
      Json::Value name = toJson(key);
      object[name.isString() ? name.asString() : compact(name)] = toJson(item);
    }
    return object;
  } else if constexpr (is_range<D>::value) {
    Json::Value array(Json::arrayValue);
    for (const auto &item : value) {
      array.append(toJson(item));
    }
    return array;
  } else if constexpr (std::is_enum_v<D>) {
    return Json::Value(static_cast<Json::Int64>(value));
  } else if constexpr (is_streamable<D>::value) {
    std::ostringstream out;
    out << value;
    return Json::Value(out.str());
  } else {
    static_assert(is_streamable<D>::value,
                  "context.log/error: this type has no text form; give it an operator<< or log "
                  "a Json::Value");
    return Json::Value();
  }
}

// How one value of a log call is written: text as is, scalars as text, the rest as JSON.
template <typename T> std::string toText(const T &value) {
  using D = std::decay_t<T>;
  if constexpr (is_char_array_v<T>) {
    return std::string(value);
  } else if constexpr (std::is_same_v<D, const char *> || std::is_same_v<D, char *>) {
    return value == nullptr ? "null" : value;
  } else if constexpr (is_text_v<D>) {
    return std::string(value);
  } else if constexpr (std::is_same_v<D, char>) {
    return std::string(1, value);
  } else if constexpr (std::is_same_v<D, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_floating_point_v<D>) {
    return number(static_cast<double>(value));
  } else if constexpr (std::is_arithmetic_v<D>) {
    return std::to_string(value);
  } else if constexpr (std::is_same_v<D, std::exception> || std::is_base_of_v<std::exception, D>) {
    return value.what();
  } else {
    Json::Value json = toJson(value);
    if (json.isString()) {
      return json.asString();
    }
    if (json.isDouble()) {
      return number(json.asDouble());
    }
    return compact(json);
  }
}

template <typename... Ts> bool anyAs(const std::any &value, Json::Value &out) {
  return ((std::any_cast<Ts>(&value) != nullptr ? (out = toJson(*std::any_cast<Ts>(&value)), true)
                                                : false) ||
          ...);
}

inline Json::Value anyToJson(const std::any &value) {
  Json::Value out;
  if (!value.has_value()) {
    return out;
  }
  if (anyAs<std::string, const char *, char *, std::string_view, Json::Value, bool, char, int, long,
            long long, unsigned, unsigned long, unsigned long long, short, float, double,
            std::nullptr_t, std::any, std::vector<std::any>, std::vector<std::string>,
            std::vector<int>, std::vector<long>, std::vector<double>, std::vector<bool>,
            std::vector<Json::Value>, std::map<std::string, std::any>,
            std::map<std::string, std::string>, std::map<std::string, int>,
            std::map<std::string, double>, std::map<std::string, Json::Value>>(value, out)) {
    return out;
  }
  return Json::Value("[std::any holding " + typeName(value.type()) + "]");
}

template <typename... Args> std::string join(const Args &...messages) {
  std::string text;
  bool first = true;
  ((text += (first ? "" : " "), text += toText(messages), first = false), ...);
  return text;
}

} // namespace format

class RuntimeContext {
public:
  RuntimeRequest req;
  RuntimeResponse res;
  std::shared_ptr<RuntimeLogger> logger;

  template <typename... Args> void log(const Args &...messages) {
    if (logger) {
      logger->write(format::join(messages...), "log");
    }
  }

  template <typename... Args> void error(const Args &...messages) {
    if (logger) {
      logger->write(format::join(messages...), "error");
    }
  }
};
} // namespace runtime

#endif // OPR_CPP_RUNTIME_CONTEXT_H
