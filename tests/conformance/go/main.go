package handler

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-runtimes/types-for-go/v4/openruntimes"
)

var (
	builtOnce sync.Once
	built     string
)

func builtText() string {
	builtOnce.Do(func() {
		data, _ := os.ReadFile("/usr/local/server/src/function/built.txt")
		built = string(data)
	})
	return built
}

type kinds struct {
	Text     string         `json:"text"`
	Number   int            `json:"number"`
	List     []interface{}  `json:"list"`
	Map      map[string]any `json:"map"`
	None     *string        `json:"none"`
	Flag     bool           `json:"flag"`
	Float    float64        `json:"float"`
	Duration time.Duration  `json:"duration"`
	Bytes    []byte         `json:"bytes"`
	private  string
}

func Main(Context openruntimes.Context) openruntimes.Response {
	req := Context.Req
	switch req.Path {
	case "/echo":
		var bodyJson any
		if err := req.BodyJson(&bodyJson); err != nil {
			bodyJson = nil
		}
		env := map[string]string{}
		for _, item := range os.Environ() {
			name, value, _ := strings.Cut(item, "=")
			if strings.HasPrefix(name, "APPWRITE_FUNCTION_") || strings.HasPrefix(name, "CONFORMANCE_") {
				env[name] = value
			}
		}
		return Context.Res.Json(map[string]any{
			"method":      req.Method,
			"scheme":      req.Scheme,
			"host":        req.Host,
			"port":        req.Port,
			"path":        req.Path,
			"query":       req.Query,
			"queryString": req.QueryString,
			"headers":     req.Headers,
			"bodyText":    req.BodyText(),
			"bodyJson":    bodyJson,
			"url":         req.Url,
			"env":         env,
			"built":       builtText(),
		})
	case "/binary":
		body := req.BodyBinary()
		reversed := make([]byte, len(body))
		for i, b := range body {
			reversed[len(body)-1-i] = b
		}
		return Context.Res.Binary(reversed)
	case "/headers":
		return Context.Res.Text("<b/>", Context.Res.WithStatusCode(201), Context.Res.WithHeaders(map[string]string{
			"Content-Type":      "Text/HTML",
			"X-Custom":          "V",
			"x-open-runtimes-x": "1",
		}))
	case "/json":
		return Context.Res.Json(map[string]any{"ok": true, "list": []int{1, 2}, "nested": map[string]string{"a": "b"}})
	case "/redirect":
		return Context.Res.Redirect("https://example.com/next", Context.Res.WithStatusCode(301))
	case "/empty":
		return Context.Res.Empty()
	case "/status":
		return Context.Res.Text("teapot", Context.Res.WithStatusCode(418))
	case "/cookie":
		return Context.Res.Text("cookie", Context.Res.WithHeaders(map[string]string{
			"set-cookie": "session=abc; Path=/; HttpOnly",
		}))
	case "/send":
		return Context.Res.Send("sent", Context.Res.WithStatusCode(202))
	case "/log":
		fmt.Println("native out")
		Context.Log("a", map[string]any{"b": 1}, []int{1, 2}, 3, true)
		Context.Error("problem")
		Context.Log(strings.Repeat("x", 9000))
		return Context.Res.Text("logged")
	case "/objects":
		Context.Log(kinds{
			Text:     "marker-1",
			Number:   42,
			List:     []interface{}{1, []int{2, 3}},
			Map:      map[string]any{"k": map[string]int{"v": 1}},
			Flag:     false,
			Float:    1.5,
			Duration: 1500 * time.Millisecond,
			Bytes:    []byte("bytes"),
			private:  "hidden",
		}, errors.New("an-error"), time.Duration(2*time.Second), nil, map[int]string{7: "seven"}, openruntimes.Log{Message: "log-type"})
		return Context.Res.Text("objects")
	case "/throw":
		panic(errors.New("boom"))
	case "/sleep":
		seconds, err := strconv.ParseFloat(req.Query["s"], 64)
		if err != nil {
			seconds = 1
		}
		time.Sleep(time.Duration(seconds * float64(time.Second)))
		return Context.Res.Text("slept")
	}
	return Context.Res.Text("unknown path "+req.Path, Context.Res.WithStatusCode(404))
}
