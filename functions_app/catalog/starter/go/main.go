package handler

import (
	"os"
	"strings"

	"github.com/open-runtimes/types-for-go/v4/openruntimes"
)

// The runtime calls Main for each request: Context.Req is the request, Context.Res builds the
// response, Context.Log and Context.Error write to the execution's logs.
func Main(Context openruntimes.Context) openruntimes.Response {
	req := Context.Req
	if req.Path == "/ping" {
		return Context.Res.Text("Pong")
	}

	greeting := os.Getenv("GREETING")
	if greeting == "" {
		greeting = "Hello"
	}
	name := os.Getenv("APPWRITE_FUNCTION_NAME")
	if name == "" {
		name = "function"
	}
	Context.Log(greeting + " from " + name + ": " + req.Method + " " + req.Path)
	runtime := os.Getenv("APPWRITE_FUNCTION_RUNTIME_NAME") + " " + os.Getenv("APPWRITE_FUNCTION_RUNTIME_VERSION")
	return Context.Res.Json(map[string]any{
		"message": greeting + " from " + name + "!",
		"method":  req.Method,
		"path":    req.Path,
		"query":   req.Query,
		"runtime": strings.TrimSpace(runtime),
	})
}
