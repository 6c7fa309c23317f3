// Open Runtimes v5 function server for C++ (POSIX sockets, the standard library and jsoncpp).
//
// Compiled once per image into lib/opr_server.o; helpers/build.sh links it with the user's
// entrypoint (through a generated file defining runtime::opr_invoke) into one binary.
//
// Listens on the Unix socket OPEN_RUNTIMES_SOCKET (bound as <path>.<pid>.tmp, chmod 0666, then
// renamed, so the path appearing means the server accepts) or on TCP OPEN_RUNTIMES_PORT
// (3000). HTTP/1.1 with keep-alive, one thread per connection, bodies up to 20 MB. Each call of
// main runs in a worker thread, so the soft timeout (x-open-runtimes-timeout) can answer while
// a slow main goes on in the background.
//
// Native output: std::cout, std::cerr and std::clog are routed per request (to the request
// whose main runs on the writing thread), so concurrent requests never mix it. Output written
// to the file descriptors directly (printf, puts, write(1), child processes) is captured with
// dup2 only while a single call of main is running; when calls overlap it goes to the
// container's own output instead of any request's logs.

#include "RuntimeContext.h"

#include <arpa/inet.h>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <random>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace runtime {
// Defined in the file build.sh generates: `return Handler::main(context);`
RuntimeOutput opr_invoke(RuntimeContext &context);
} // namespace runtime

namespace {

constexpr std::size_t MAX_HEAD = 64 * 1024;
constexpr std::size_t MAX_BODY = 20 * 1024 * 1024;
constexpr std::size_t LOG_LIMIT = 8000;
constexpr std::size_t CAPTURE_LIMIT = 64 * 1024; // bytes of native output kept per request
constexpr int IDLE_SECONDS = 75;
constexpr int MAX_CONNECTIONS = 4096;
const char *const TRUNCATED = "... Log truncated due to size limit (8000 characters)";
const char *const NATIVE_NOTICE =
    "Native logs detected. Use context.log() or context.error() for better experience.";
const char *const TIMEOUT_ERROR = "Header \"x-open-runtimes-timeout\" must be an integer greater than 0.";
const char *const SECRET_ERROR = "Unauthorized. Provide correct \"x-open-runtimes-secret\" header.";
const char *const TEXT_PLAIN = "text/plain; charset=utf-8";

std::string lower(std::string text) {
  for (auto &c : text) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return text;
}

bool startsWith(const std::string &text, const char *prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool allDigits(const std::string &text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

std::string envOr(const char *name, const char *fallback) {
  const char *value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

bool parseJson(const std::string &text, Json::Value &out) {
  Json::CharReaderBuilder builder;
  builder["allowComments"] = false;
  builder["failIfExtra"] = true;
  builder["allowSingleQuotes"] = false;
  builder["allowSpecialFloats"] = false;
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  std::string errors;
  return reader->parse(text.data(), text.data() + text.size(), &out, &errors);
}

std::string jsonText(const Json::Value &value) {
  if (value.isString()) {
    return value.asString();
  }
  if (value.isNull()) {
    return "";
  }
  return runtime::format::compact(value);
}

struct Config {
  std::string secret = envOr("OPEN_RUNTIMES_SECRET", "");
  std::string logsDir = envOr("OPEN_RUNTIMES_LOGS_DIR", "/mnt/logs");
  bool development = envOr("OPEN_RUNTIMES_ENV", "") == "development";
  std::string socketPath = envOr("OPEN_RUNTIMES_SOCKET", "");
  std::string port = envOr("OPEN_RUNTIMES_PORT", "3000");
  std::vector<std::pair<std::string, std::string>> forcedHeaders;

  Config() {
    Json::Value headers;
    std::string text = envOr("OPEN_RUNTIMES_HEADERS", "{}");
    if (!text.empty() && parseJson(text, headers) && headers.isObject()) {
      for (const auto &name : headers.getMemberNames()) {
        forcedHeaders.emplace_back(lower(name), jsonText(headers[name]));
      }
    }
  }
};

const Config &config() {
  static const Config instance;
  return instance;
}

void writeAll(int fd, const char *data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// ---- native output capture ---------------------------------------------------------------

struct Capture {
  std::mutex mutex;
  std::string text;
  bool closed = false;

  bool append(const char *data, std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex);
    if (closed) {
      return false;
    }
    if (text.size() < CAPTURE_LIMIT) {
      text.append(data, std::min(size, CAPTURE_LIMIT - text.size()));
    }
    return true;
  }

  std::string close() {
    std::lock_guard<std::mutex> lock(mutex);
    closed = true;
    return std::move(text);
  }
};

thread_local Capture *currentCapture = nullptr;

// An unbuffered streambuf for std::cout/cerr/clog: the capture of the calling thread's request,
// else the real file descriptor.
class RoutingBuf : public std::streambuf {
public:
  explicit RoutingBuf(int fd) : fd(fd) {}

protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      char ch = traits_type::to_char_type(c);
      put(&ch, 1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char *data, std::streamsize size) override {
    put(data, static_cast<std::size_t>(size));
    return size;
  }
  int sync() override { return 0; }

private:
  int fd;
  void put(const char *data, std::size_t size) {
    Capture *capture = currentCapture;
    if (capture == nullptr || !capture->append(data, size)) {
      writeAll(fd, data, size);
    }
  }
};

// File-descriptor capture (printf and friends): fds 1 and 2 point at a memfd while exactly one
// call of main runs. `running` counts worker threads still in user code (timed-out ones too).
class FdCapture {
public:
  void begin(const void *owner) {
    std::lock_guard<std::mutex> lock(mutex);
    if (running == 0 && this->owner == nullptr) {
      start(owner);
    } else if (this->owner != nullptr) {
      shared = true;
    }
    ++running;
  }

  void workerDone() {
    std::lock_guard<std::mutex> lock(mutex);
    --running;
  }

  std::string end(const void *owner) {
    std::lock_guard<std::mutex> lock(mutex);
    if (this->owner != owner) {
      return "";
    }
    std::fflush(stdout);
    std::fflush(stderr);
    ::dup2(saved[0], 1);
    ::dup2(saved[1], 2);
    ::close(saved[0]);
    ::close(saved[1]);
    std::string text;
    off_t size = ::lseek(memfd, 0, SEEK_END);
    if (size > 0) {
      text.resize(std::min<std::size_t>(static_cast<std::size_t>(size), CAPTURE_LIMIT));
      ssize_t n = ::pread(memfd, text.data(), text.size(), 0);
      text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    ::close(memfd);
    this->owner = nullptr;
    if (shared) { // overlapping calls: nobody's in particular
      writeAll(1, text.data(), text.size());
      text.clear();
    }
    shared = false;
    return text;
  }

private:
  std::mutex mutex;
  int running = 0;
  const void *owner = nullptr;
  bool shared = false;
  int memfd = -1;
  int saved[2] = {-1, -1};

  void start(const void *who) {
    int fd = ::memfd_create("opr-native-output", MFD_CLOEXEC);
    if (fd < 0) {
      fd = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
      return;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    saved[0] = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
    saved[1] = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (saved[0] < 0 || saved[1] < 0) {
      for (int &s : saved) {
        if (s >= 0) {
          ::close(s);
        }
        s = -1;
      }
      ::close(fd);
      return;
    }
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    memfd = fd;
    owner = who;
    shared = false;
  }
};

FdCapture &fdCapture() {
  static FdCapture instance;
  return instance;
}

// ---- HTTP --------------------------------------------------------------------------------

struct HttpError : std::runtime_error {
  int status;
  HttpError(int status, const std::string &message) : std::runtime_error(message), status(status) {}
};

struct Closed {}; // the peer went away

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method, target, version;
  Headers headers; // lower-cased names, arrival order
  std::string body;
  bool keepAlive = true;

  std::string header(const std::string &name) const {
    for (const auto &[key, value] : headers) {
      if (key == name) {
        return value;
      }
    }
    return "";
  }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
};

const char *reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 203: return "Non-Authoritative Information";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 413: return "Request Entity Too Large";
  case 415: return "Unsupported Media Type";
  case 418: return "I'm a Teapot";
  case 422: return "Unprocessable Entity";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "";
  }
}

bool isToken(const std::string &text) {
  static const std::string extra = "!#$%&'*+-.^_`|~";
  if (text.empty()) {
    return false;
  }
  for (unsigned char c : text) {
    if (!std::isalnum(c) && extra.find(static_cast<char>(c)) == std::string::npos) {
      return false;
    }
  }
  return true;
}

std::string trim(const std::string &text) {
  std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) {
    return "";
  }
  std::size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

class Connection {
public:
  explicit Connection(int fd) : fd(fd) {}

  // The next request, or false when the peer closed the connection between requests.
  bool read(Request &request) {
    std::size_t end;
    while (true) {
      std::size_t skip = buffer.find_first_not_of("\r\n");
      buffer.erase(0, skip == std::string::npos ? buffer.size() : skip);
      end = buffer.find("\r\n\r\n");
      if (end != std::string::npos) {
        break;
      }
      if (buffer.size() > MAX_HEAD) {
        throw HttpError(431, "Request Header Fields Too Large");
      }
      if (!fill()) {
        if (!buffer.empty()) {
          throw HttpError(400, "Bad Request");
        }
        return false;
      }
    }
    if (end > MAX_HEAD) {
      throw HttpError(431, "Request Header Fields Too Large");
    }
    parseHead(buffer.substr(0, end), request);
    buffer.erase(0, end + 4);
    readBody(request);
    return true;
  }

  void send(const std::string &data) {
    const char *cursor = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::send(fd, cursor, left, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw Closed{};
      }
      cursor += n;
      left -= static_cast<std::size_t>(n);
    }
  }

private:
  int fd;
  std::string buffer;

  bool fill() {
    char chunk[64 * 1024];
    while (true) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  void need(std::size_t size) {
    while (buffer.size() < size) {
      if (!fill()) {
        throw Closed{};
      }
    }
  }

  std::string line() {
    std::size_t end;
    while ((end = buffer.find("\r\n")) == std::string::npos) {
      if (buffer.size() > 8192) {
        throw HttpError(400, "Bad Request");
      }
      if (!fill()) {
        throw Closed{};
      }
    }
    std::string text = buffer.substr(0, end);
    buffer.erase(0, end + 2);
    return text;
  }

  static void parseHead(const std::string &head, Request &request) {
    std::size_t lineEnd = head.find("\r\n");
    std::string first = head.substr(0, lineEnd);
    std::size_t a = first.find(' ');
    std::size_t b = a == std::string::npos ? a : first.find(' ', a + 1);
    if (a == std::string::npos || b == std::string::npos || first.find(' ', b + 1) != std::string::npos) {
      throw HttpError(400, "Bad Request");
    }
    request.method = first.substr(0, a);
    request.target = first.substr(a + 1, b - a - 1);
    request.version = first.substr(b + 1);
    if (!isToken(request.method) || request.target.empty() ||
        (request.version != "HTTP/1.1" && request.version != "HTTP/1.0")) {
      throw HttpError(400, "Bad Request");
    }
    std::size_t cursor = lineEnd == std::string::npos ? head.size() : lineEnd + 2;
    while (cursor < head.size()) {
      std::size_t next = head.find("\r\n", cursor);
      if (next == std::string::npos) {
        next = head.size();
      }
      std::string text = head.substr(cursor, next - cursor);
      cursor = next + 2;
      if (text.empty()) {
        continue;
      }
      std::size_t colon = text.find(':');
      if (colon == std::string::npos || !isToken(text.substr(0, colon))) {
        throw HttpError(400, "Bad Request");
      }
      request.headers.emplace_back(lower(text.substr(0, colon)), trim(text.substr(colon + 1)));
    }
    std::string connection = lower(request.header("connection"));
    if (request.version == "HTTP/1.0") {
      request.keepAlive = connection.find("keep-alive") != std::string::npos;
    } else {
      request.keepAlive = connection.find("close") == std::string::npos;
    }
  }

  void readBody(Request &request) {
    bool chunked = lower(request.header("transfer-encoding")).find("chunked") != std::string::npos;
    std::string length = request.header("content-length");
    if (!chunked && length.empty()) {
      return;
    }
    if (!chunked) {
      if (!allDigits(length)) {
        throw HttpError(400, "Bad Request");
      }
      if (length.size() > 12 || std::stoull(length) > MAX_BODY) {
        throw HttpError(413, "Maximum request body size " + std::to_string(MAX_BODY) +
                                 " exceeded, actual body size " + length);
      }
    }
    if (request.version == "HTTP/1.1" && lower(request.header("expect")) == "100-continue") {
      send("HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (!chunked) {
      std::size_t size = std::stoull(length);
      need(size);
      request.body = buffer.substr(0, size);
      buffer.erase(0, size);
      return;
    }
    while (true) {
      std::string sizeLine = line();
      std::string digits = trim(sizeLine.substr(0, sizeLine.find(';')));
      if (digits.empty() || digits.size() > 8 ||
          digits.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        throw HttpError(400, "Bad Request");
      }
      std::size_t size = std::stoul(digits, nullptr, 16);
      if (size == 0) {
        while (!line().empty()) {
        } // trailers are ignored
        return;
      }
      if (request.body.size() + size > MAX_BODY) {
        throw HttpError(413, "Maximum request body size " + std::to_string(MAX_BODY) + " exceeded.");
      }
      need(size + 2);
      request.body.append(buffer, 0, size);
      buffer.erase(0, size + 2);
    }
  }
};

std::string serialize(const Response &response, bool keepAlive, bool headOnly) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason(response.status) + "\r\n";
  for (const auto &[name, value] : response.headers) {
    out += name + ": " + value + "\r\n";
  }
  bool noBody = response.status < 200 || response.status == 204 || response.status == 304;
  if (!noBody) {
    out += "content-length: " + std::to_string(response.body.size()) + "\r\n";
  }
  if (!keepAlive) {
    out += "connection: close\r\n";
  }
  out += "\r\n";
  if (!noBody && !headOnly) {
    out += response.body;
  }
  return out;
}

// ---- the v5 request -> context -> response ---------------------------------------------------

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 && hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::shared_ptr<runtime::RuntimeContext> buildContext(const Request &request,
                                                      const std::shared_ptr<runtime::RuntimeLogger> &logger) {
  auto context = std::make_shared<runtime::RuntimeContext>();
  context->logger = logger;
  runtime::RuntimeRequest &req = context->req;
  req.method = request.method;
  std::size_t question = request.target.find('?');
  req.path = percentDecode(request.target.substr(0, question));
  req.queryString = question == std::string::npos ? "" : request.target.substr(question + 1);

  Json::Value query(Json::objectValue);
  std::size_t start = 0;
  while (start <= req.queryString.size() && !req.queryString.empty()) {
    std::size_t amp = req.queryString.find('&', start);
    std::string param = req.queryString.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    std::size_t eq = param.find('=');
    std::string key = param.substr(0, eq);
    if (!key.empty()) {
      query[key] = eq == std::string::npos ? "" : param.substr(eq + 1);
    }
    if (amp == std::string::npos) {
      break;
    }
    start = amp + 1;
  }
  req.query = query;

  Json::Value headers(Json::objectValue);
  for (const auto &[name, value] : request.headers) {
    if (startsWith(name, "x-open-runtimes-")) {
      continue;
    }
    if (headers.isMember(name)) {
      headers[name] = headers[name].asString() + (name == "cookie" ? "; " : ", ") + value;
    } else {
      headers[name] = value;
    }
  }
  for (const auto &[name, value] : config().forcedHeaders) {
    headers[name] = value;
  }
  req.headers = headers;

  req.scheme = headers.isMember("x-forwarded-proto") ? headers["x-forwarded-proto"].asString() : "http";
  int defaultPort = req.scheme == "https" ? 443 : 80;
  std::string host = headers.isMember("host") ? headers["host"].asString() : "";
  std::string port;
  std::size_t bracket = host.rfind(']');
  std::size_t colon = host.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  req.host = host;
  req.port = allDigits(port) && port.size() <= 5 ? std::stoi(port) : defaultPort;
  req.url = req.scheme + "://" + req.host;
  if (req.port != defaultPort) {
    req.url += ":" + std::to_string(req.port);
  }
  req.url += req.path;
  if (!req.queryString.empty()) {
    req.url += "?" + req.queryString;
  }

  const auto *bytes = reinterpret_cast<const std::byte *>(request.body.data());
  req.bodyBinary.assign(bytes, bytes + request.body.size());
  req.bodyText = request.body;
  req.bodyRaw = request.body;
  Json::Value json;
  if (!request.body.empty() && parseJson(request.body, json)) {
    req.bodyJson = json;
  }
  std::string contentType = lower(headers.isMember("content-type") ? headers["content-type"].asString() : "text/plain");
  if (startsWith(contentType, "application/json")) {
    req.body = request.body.empty() ? Json::Value(Json::objectValue) : req.bodyJson;
  } else {
    req.body = req.bodyText;
  }
  return context;
}

std::string headerValue(const std::string &value) {
  if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
    throw std::runtime_error("Invalid response header value: " + value);
  }
  return value;
}

Response normalise(const runtime::RuntimeOutput &output) {
  Response response;
  if (output.statusCode < 100 || output.statusCode > 999) {
    throw std::runtime_error("Invalid response status code: " + std::to_string(output.statusCode));
  }
  response.status = output.statusCode;
  std::string contentType = "text/plain";
  if (output.headers.isObject()) {
    for (const auto &key : output.headers.getMemberNames()) {
      std::string name = lower(key);
      if (startsWith(name, "x-open-runtimes-") || name == "content-length" ||
          name == "transfer-encoding" || name == "connection") {
        continue;
      }
      if (!isToken(name)) {
        throw std::runtime_error("Invalid response header name: " + key);
      }
      const Json::Value &value = output.headers[key];
      if (name == "content-type") {
        contentType = jsonText(value.isArray() && !value.empty() ? value[value.size() - 1] : value);
        continue;
      }
      if (value.isArray()) {
        for (const auto &item : value) {
          response.headers.emplace_back(name, headerValue(jsonText(item)));
        }
      } else {
        response.headers.emplace_back(name, headerValue(jsonText(value)));
      }
    }
  }
  contentType = lower(headerValue(contentType));
  if (!startsWith(contentType, "multipart/") && contentType.find("charset=") == std::string::npos) {
    contentType += "; charset=utf-8";
  }
  response.headers.insert(response.headers.begin(), {"content-type", contentType});
  response.body.assign(reinterpret_cast<const char *>(output.body.data()), output.body.size());
  return response;
}

struct Call {
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  bool failed = false;
  std::string error;
  runtime::RuntimeOutput output;
  std::shared_ptr<runtime::RuntimeContext> context;
  Capture capture;
};

// main(context) in a worker thread; the answer comes at its return or at the soft timeout.
runtime::RuntimeOutput runUserCode(const std::shared_ptr<runtime::RuntimeContext> &context, long timeout) {
  auto call = std::make_shared<Call>();
  call->context = context;
  fdCapture().begin(call.get());
  try {
    std::thread([call] {
      currentCapture = &call->capture;
      runtime::RuntimeOutput output;
      bool failed = false;
      std::string error;
      try {
        output = runtime::opr_invoke(*call->context);
      } catch (const std::exception &e) {
        failed = true;
        error = e.what();
      } catch (...) {
        failed = true;
        std::type_info *type = abi::__cxa_current_exception_type();
        error = "Uncaught exception of type " +
                (type != nullptr ? runtime::format::typeName(*type) : std::string("unknown"));
      }
      currentCapture = nullptr;
      fdCapture().workerDone();
      std::lock_guard<std::mutex> lock(call->mutex);
      call->output = std::move(output);
      call->failed = failed;
      call->error = std::move(error);
      call->done = true;
      call->finished.notify_all();
    }).detach();
  } catch (...) {
    fdCapture().workerDone();
    fdCapture().end(call.get());
    throw;
  }

  bool done;
  {
    std::unique_lock<std::mutex> lock(call->mutex);
    if (timeout > 0) {
      call->finished.wait_for(lock, std::chrono::seconds(timeout), [&] { return call->done; });
    } else {
      call->finished.wait(lock, [&] { return call->done; });
    }
    done = call->done;
  }
  std::string native = call->capture.close() + fdCapture().end(call.get());
  if (!native.empty()) {
    context->logger->write(native, "log", true);
  }
  if (!done) {
    context->error("Execution timed out.");
    return context->res.text("", 500);
  }
  std::lock_guard<std::mutex> lock(call->mutex);
  if (call->failed) {
    context->error(call->error);
    return context->res.text("", 500);
  }
  return call->output;
}

Response plain(int status, const std::string &body) {
  Response response;
  response.status = status;
  response.headers.emplace_back("content-type", TEXT_PLAIN);
  response.body = body;
  return response;
}

Response action(const Request &request, const std::shared_ptr<runtime::RuntimeLogger> &logger) {
  std::string timeoutHeader = request.header("x-open-runtimes-timeout");
  long timeout = 0;
  if (!timeoutHeader.empty()) {
    if (!allDigits(timeoutHeader) || std::stold(timeoutHeader) == 0) {
      return plain(500, TIMEOUT_ERROR);
    }
    timeout = timeoutHeader.size() > 7 ? 9999999 : std::stol(timeoutHeader);
  }
  const std::string &secret = config().secret;
  if (!secret.empty() && request.header("x-open-runtimes-secret") != secret) {
    return plain(500, SECRET_ERROR);
  }
  auto context = buildContext(request, logger);
  Response response = normalise(runUserCode(context, timeout));
  response.headers.emplace_back("x-open-runtimes-log-id", logger->id);
  return response;
}

std::string readFile(const char *path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

Response handle(const Request &request) {
  std::string path = request.target.substr(0, request.target.find('?'));
  if (path == "/__opr/health") {
    return plain(200, "OK");
  }
  if (path == "/__opr/timings") {
    return plain(200, readFile("/mnt/telemetry/timings.txt"));
  }
  auto logger = std::make_shared<runtime::RuntimeLogger>(request.header("x-open-runtimes-logging"),
                                                         request.header("x-open-runtimes-log-id"));
  Response response;
  try {
    response = action(request, logger);
  } catch (const std::exception &e) {
    logger->write(e.what(), "error");
    response = plain(500, "");
    response.headers.emplace_back("x-open-runtimes-log-id", logger->id);
  }
  logger->end();
  return response;
}

std::atomic<int> connections{0};

void serve(int fd) {
  timeval idle{IDLE_SECONDS, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
  Connection connection(fd);
  try {
    while (true) {
      Request request;
      try {
        if (!connection.read(request)) {
          break;
        }
      } catch (const HttpError &error) {
        connection.send(serialize(plain(error.status, error.what()), false, false));
        break;
      }
      Response response = handle(request);
      connection.send(serialize(response, request.keepAlive, request.method == "HEAD"));
      if (!request.keepAlive) {
        break;
      }
    }
  } catch (const Closed &) {
  } catch (const std::exception &) {
  }
  ::close(fd);
  --connections;
}

char socketPathForSignal[sizeof(sockaddr_un::sun_path) + 1] = {0};

void stop(int) {
  if (socketPathForSignal[0] != '\0') {
    ::unlink(socketPathForSignal);
  }
  ::_exit(0);
}

int listenUnix(const std::string &path) {
  sockaddr_un address{};
  std::string staging = path + "." + std::to_string(::getpid()) + ".tmp";
  if (staging.size() >= sizeof address.sun_path) {
    throw std::runtime_error("OPEN_RUNTIMES_SOCKET is too long: " + path);
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, staging.c_str(), staging.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  ::unlink(staging.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || ::listen(fd, 1024) != 0 ||
      ::chmod(staging.c_str(), 0666) != 0) {
    throw std::runtime_error("cannot listen on " + staging + ": " + std::strerror(errno));
  }
  std::memcpy(socketPathForSignal, path.c_str(), path.size() + 1);
  if (::rename(staging.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + staging + ": " + std::strerror(errno));
  }
  return fd;
}

int listenTcp(const std::string &port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(static_cast<uint16_t>(allDigits(port) ? std::stoi(port) : 3000));
  if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || ::listen(fd, 1024) != 0) {
    throw std::runtime_error("cannot listen on port " + port + ": " + std::strerror(errno));
  }
  return fd;
}

RoutingBuf coutBuf(1);
RoutingBuf cerrBuf(2);

} // namespace

namespace runtime {

namespace {
bool validLogId(const std::string &id) {
  if (id.empty() || id.size() > 128) {
    return false;
  }
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

// The first `limit` characters (UTF-8 code points) of text, or all of it.
bool cutAt(const std::string &text, std::size_t limit, std::size_t &bytes) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (count == limit) {
        bytes = i;
        return true;
      }
      ++count;
    }
  }
  return false;
}
} // namespace

RuntimeLogger::RuntimeLogger(const std::string &headerStatus, const std::string &headerId) {
  enabled = headerStatus.empty() || headerStatus == "enabled";
  if (enabled) {
    if (validLogId(headerId)) {
      id = headerId;
    } else {
      id = config().development ? "dev" : generateId();
    }
  }
}

RuntimeLogger::~RuntimeLogger() { end(); }

std::FILE *RuntimeLogger::stream(bool error) {
  std::FILE *&file = error ? errors : logs;
  if (file == nullptr) {
    std::string path = config().logsDir + "/" + id + (error ? "_errors.log" : "_logs.log");
    file = std::fopen(path.c_str(), "ae");
  }
  return file;
}

void RuntimeLogger::write(const std::string &message, const std::string &type, bool native) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!enabled) {
    return;
  }
  std::string text;
  if (native && !includesNativeInfo) {
    includesNativeInfo = true;
    text = std::string(NATIVE_NOTICE) + "\n";
  }
  std::size_t cut = 0;
  if (cutAt(message, LOG_LIMIT, cut)) {
    text += message.substr(0, cut) + TRUNCATED + "\n";
  } else {
    text += message;
    if (!native || message.empty() || message.back() != '\n') {
      text += "\n";
    }
  }
  std::FILE *file = stream(type == "error");
  if (file != nullptr) {
    std::fwrite(text.data(), 1, text.size(), file);
    std::fflush(file);
  }
}

void RuntimeLogger::end() {
  std::lock_guard<std::mutex> lock(mutex);
  enabled = false;
  for (std::FILE **file : {&logs, &errors}) {
    if (*file != nullptr) {
      std::fclose(*file);
      *file = nullptr;
    }
  }
}

std::string RuntimeLogger::generateId(int padding) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  char head[32];
  std::snprintf(head, sizeof head, "%08llx%05llx", static_cast<unsigned long long>(micros / 1000000),
                static_cast<unsigned long long>(micros % 1000000));
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::string id = head;
  const char *digits = "0123456789abcdef";
  for (int i = 0; i < padding; ++i) {
    id += digits[random() % 16];
  }
  return id;
}

} // namespace runtime

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = stop;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);

  std::cout.rdbuf(&coutBuf);
  std::cerr.rdbuf(&cerrBuf);
  std::clog.rdbuf(&cerrBuf);

  int server;
  bool tcp = config().socketPath.empty();
  try {
    server = tcp ? listenTcp(config().port) : listenUnix(config().socketPath);
  } catch (const std::exception &e) {
    std::string message = std::string(e.what()) + "\n";
    writeAll(2, message.data(), message.size());
    return 1;
  }
  const char ready[] = "HTTP server successfully started!\n";
  writeAll(1, ready, sizeof ready - 1);

  while (true) {
    int fd = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    if (connections.load() >= MAX_CONNECTIONS) {
      ::close(fd);
      continue;
    }
    if (tcp) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ++connections;
    try {
      std::thread(serve, fd).detach();
    } catch (const std::system_error &) {
      --connections;
      ::close(fd);
    }
  }
}
