// Open Runtimes v5 function server for Go (standard library only).
//
// helpers/compile.sh copies these files into a `package main` directory inside the user's
// module, next to a generated main.go that calls serve(<the entrypoint's package>.Main), and
// builds one static binary. So the server is compiled at the user's Go language version: it is
// written for Go 1.16 (no generics, no `any`).
//
// It listens on the Unix socket OPEN_RUNTIMES_SOCKET (bound as <path>.<pid>.tmp, chmod 0666,
// then renamed, so the path appearing means the server accepts) or on TCP OPEN_RUNTIMES_PORT
// (3000). net/http serves HTTP/1.1 with keep-alive, one goroutine per connection. Each call of
// Main runs in its own goroutine, so the soft timeout (x-open-runtimes-timeout) can answer
// while a slow Main goes on in the background, and concurrent requests run concurrently.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/open-runtimes/types-for-go/v4/openruntimes"
)

const (
	maxBody      = 20 * 1024 * 1024
	maxTimeout   = 100000000 // seconds (about 3 years); time.Duration would overflow past 292 years
	secretError  = "Unauthorized. Provide correct \"x-open-runtimes-secret\" header."
	timeoutError = "Header \"x-open-runtimes-timeout\" must be an integer greater than 0."
	textPlain    = "text/plain; charset=utf-8"
)

type oprServer struct {
	entry   func(openruntimes.Context) openruntimes.Response
	secret  string
	headers map[string]string // OPEN_RUNTIMES_HEADERS, forced into every request
}

func forcedHeaders() map[string]string {
	headers := map[string]string{}
	var parsed map[string]interface{}
	text := os.Getenv("OPEN_RUNTIMES_HEADERS")
	if text == "" || json.Unmarshal([]byte(text), &parsed) != nil {
		return headers
	}
	for name, value := range parsed {
		switch v := value.(type) {
		case string:
			headers[strings.ToLower(name)] = v
		case nil:
			headers[strings.ToLower(name)] = ""
		default:
			encoded, _ := json.Marshal(v)
			headers[strings.ToLower(name)] = string(encoded)
		}
	}
	return headers
}

// serve runs the server until SIGTERM; main.go (generated at build time) calls it.
func serve(entry func(openruntimes.Context) openruntimes.Response) {
	stderr := realStderr()
	server := &oprServer{entry: entry, secret: os.Getenv("OPEN_RUNTIMES_SECRET"), headers: forcedHeaders()}

	socketPath := os.Getenv("OPEN_RUNTIMES_SOCKET")
	var listener net.Listener
	var err error
	if socketPath != "" {
		listener, err = listenUnix(socketPath)
	} else {
		port := os.Getenv("OPEN_RUNTIMES_PORT")
		if port == "" {
			port = "3000"
		}
		listener, err = net.Listen("tcp", ":"+port) // Go sets TCP_NODELAY on accepted conns
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		os.Exit(1)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		if socketPath != "" {
			os.Remove(socketPath)
		}
		os.Exit(0)
	}()

	httpServer := &http.Server{
		Handler:           server,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       75 * time.Second,
		MaxHeaderBytes:    64 * 1024,
		ErrorLog:          log.New(stderr, "", log.LstdFlags),
	}
	os.Stdout.WriteString("HTTP server successfully started!\n")
	err = httpServer.Serve(listener)
	fmt.Fprintln(stderr, err)
	os.Exit(1)
}

func listenUnix(path string) (net.Listener, error) {
	staging := path + "." + strconv.Itoa(os.Getpid()) + ".tmp"
	os.Remove(staging)
	listener, err := net.Listen("unix", staging)
	if err != nil {
		return nil, err
	}
	listener.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(staging, 0666); err != nil {
		return nil, err
	}
	if err := os.Rename(staging, path); err != nil {
		return nil, err
	}
	return listener, nil
}

// realStderr is a copy of the server's standard error at start, for its own messages: fds 1
// and 2 are redirected while a request's native output is captured.
func realStderr() *os.File {
	fd, err := dupCloexec(2)
	if err != nil {
		return os.Stderr
	}
	return os.NewFile(uintptr(fd), "/dev/stderr")
}

func plain(w http.ResponseWriter, status int, body string) {
	header := w.Header()
	header["Date"] = nil
	header["Content-Type"] = []string{textPlain}
	header["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (s *oprServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, queryString := splitTarget(r)
	if path == "/__opr/health" {
		plain(w, 200, "OK")
		return
	}
	if path == "/__opr/timings" {
		timings, _ := ioutil.ReadFile("/mnt/telemetry/timings.txt")
		plain(w, 200, string(timings))
		return
	}
	if s.secret != "" && r.Header.Get("x-open-runtimes-secret") != s.secret {
		plain(w, 500, secretError)
		return
	}
	timeout := 0
	if text := r.Header.Get("x-open-runtimes-timeout"); text != "" {
		if strings.TrimLeft(text, "0123456789") != "" || strings.TrimLeft(text, "0") == "" {
			plain(w, 500, timeoutError)
			return
		}
		seconds, err := strconv.Atoi(text)
		if err != nil || seconds > maxTimeout {
			seconds = maxTimeout
		}
		timeout = seconds
	}
	if r.ContentLength > maxBody {
		plain(w, 413, fmt.Sprintf("Maximum request body size %d exceeded.", maxBody))
		return
	}
	body, err := ioutil.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			plain(w, 413, fmt.Sprintf("Maximum request body size %d exceeded.", maxBody))
		} else {
			plain(w, 400, "Could not read the request body.")
		}
		return
	}

	logger, _ := openruntimes.NewLogger(r.Header.Get("x-open-runtimes-logging"), r.Header.Get("x-open-runtimes-log-id"))
	defer logger.End()
	context := openruntimes.NewContext(logger)
	context.Req = s.request(r, path, queryString)
	context.Req.SetBodyBinary(body)
	context.Res = openruntimes.ContextResponse{}

	output, failure := s.run(context, &logger, timeout)
	if failure == "" {
		failure = respond(w, output, logger.Id)
		if failure == "" {
			return
		}
	}
	logger.Write([]interface{}{failure}, openruntimes.LOGGER_TYPE_ERROR, false)
	respond(w, openruntimes.Response{Body: []byte{}, StatusCode: 500}, logger.Id)
}

// splitTarget is the raw path (not percent-decoded) and the raw query string of the request
// target.
func splitTarget(r *http.Request) (string, string) {
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") {
		path := r.URL.EscapedPath()
		if path == "" {
			path = "/"
		}
		return path, r.URL.RawQuery
	}
	if i := strings.IndexByte(target, '?'); i >= 0 {
		return target[:i], target[i+1:]
	}
	return target, ""
}

func (s *oprServer) request(r *http.Request, path, queryString string) openruntimes.ContextRequest {
	headers := map[string]string{}
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if strings.HasPrefix(name, "x-open-runtimes-") {
			continue
		}
		separator := ", "
		if name == "cookie" {
			separator = "; "
		}
		headers[name] = strings.Join(values, separator)
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	for name, value := range s.headers {
		headers[name] = value
	}

	scheme := "http"
	if proto := headers["x-forwarded-proto"]; proto != "" {
		scheme = proto
	}
	defaultPort := 80
	if scheme == "https" {
		defaultPort = 443
	}
	host, port := headers["host"], defaultPort
	if colon := strings.LastIndexByte(host, ':'); colon >= 0 && colon > strings.LastIndexByte(host, ']') {
		if number, err := strconv.Atoi(host[colon+1:]); err == nil && number >= 0 && number <= 65535 {
			port = number
		}
		host = host[:colon]
	}
	url := scheme + "://" + host
	if port != defaultPort {
		url += ":" + strconv.Itoa(port)
	}
	url += path
	if queryString != "" {
		url += "?" + queryString
	}

	query := map[string]string{}
	for _, param := range strings.Split(queryString, "&") {
		parts := strings.SplitN(param, "=", 2)
		if parts[0] == "" {
			continue
		}
		if len(parts) == 2 {
			query[parts[0]] = parts[1]
		} else {
			query[parts[0]] = ""
		}
	}

	return openruntimes.ContextRequest{
		Headers:     headers,
		Method:      r.Method,
		Url:         url,
		Path:        path,
		Port:        port,
		Scheme:      scheme,
		Host:        host,
		QueryString: queryString,
		Query:       query,
	}
}

type outcome struct {
	response openruntimes.Response
	failure  string
}

// run calls Main in a goroutine and waits for its return, its panic or the soft timeout.
// A non-empty failure is the text for the errors file (the answer is then 500).
func (s *oprServer) run(context openruntimes.Context, logger *openruntimes.Logger, timeout int) (openruntimes.Response, string) {
	call := &capturing{}
	native.begin(call)
	done := make(chan outcome, 1)
	go func() {
		var result outcome
		returned := false
		defer func() {
			if recovered := recover(); recovered != nil {
				result = outcome{failure: panicText(recovered, debug.Stack())}
			} else if !returned {
				result = outcome{failure: "Main exited without returning a response (runtime.Goexit)."}
			}
			native.workerDone()
			done <- result
		}()
		result.response = s.entry(context)
		returned = true
	}()

	var expired <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(time.Duration(timeout) * time.Second)
		defer timer.Stop()
		expired = timer.C
	}
	var result outcome
	timedOut := false
	select {
	case result = <-done:
	case <-expired:
		timedOut = true
	}
	if text := native.end(call); text != "" {
		logger.Write([]interface{}{text}, openruntimes.LOGGER_TYPE_LOG, true)
	}
	if timedOut {
		return openruntimes.Response{}, "Execution timed out."
	}
	return result.response, result.failure
}

// panicText is the panic value and the stack from the panicking frame on (the server's and the
// runtime's own frames above it are left out).
func panicText(recovered interface{}, stack []byte) string {
	message := fmt.Sprint(recovered)
	if err, ok := recovered.(error); ok {
		message = err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(stack), "\n"), "\n")
	start := -1
	for i, line := range lines {
		if strings.HasPrefix(line, "panic(") && i+2 < len(lines) {
			start = i + 2
		}
	}
	trace := lines
	if start > 0 {
		trace = append([]string{lines[0]}, lines[start:]...)
	}
	// Drop the server's frames below the user's (this file's run.func1 and what called it).
	for i, line := range trace {
		if strings.HasPrefix(line, "main.(*oprServer).run.func") {
			trace = trace[:i]
			break
		}
	}
	return "panic: " + message + "\n\n" + strings.Join(trace, "\n")
}

// respond writes the normalised response, or returns why it cannot (nothing is written then).
// Header names are lower-cased, x-open-runtimes-* are dropped, the content-type defaults to
// text/plain, is lower-cased and gets "; charset=utf-8" unless multipart/* or already a charset.
func respond(w http.ResponseWriter, output openruntimes.Response, logId string) string {
	status := output.StatusCode
	if status == 0 {
		status = 200
	}
	if status < 200 || status > 999 {
		return fmt.Sprintf("Invalid response status code: %d.", output.StatusCode)
	}
	contentType := "text/plain"
	headers := map[string]string{}
	for key, value := range output.Headers {
		name := strings.ToLower(key)
		if strings.HasPrefix(name, "x-open-runtimes-") || name == "content-length" ||
			name == "transfer-encoding" || name == "connection" {
			continue
		}
		if !validHeaderName(name) {
			return fmt.Sprintf("Invalid response header name: %q.", key)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return fmt.Sprintf("Invalid response header value for %q.", key)
		}
		if name == "content-type" {
			contentType = value
			continue
		}
		headers[name] = value
	}
	contentType = strings.ToLower(contentType)
	if !strings.HasPrefix(contentType, "multipart/") && !strings.Contains(contentType, "charset=") {
		contentType += "; charset=utf-8"
	}

	header := w.Header()
	header["Date"] = nil
	// net/http looks these two up by their canonical names: an explicit Content-Length keeps a
	// large body from being chunked, and a present Content-Type key stops content sniffing.
	header["Content-Type"] = nil
	header["content-type"] = []string{contentType}
	for name, value := range headers {
		header[name] = []string{value}
	}
	header["x-open-runtimes-log-id"] = []string{logId}
	bodyAllowed := status != 204 && status != 304
	if bodyAllowed {
		header["Content-Length"] = []string{strconv.Itoa(len(output.Body))}
	}
	w.WriteHeader(status)
	if bodyAllowed && len(output.Body) > 0 {
		w.Write(output.Body)
	}
	return ""
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
