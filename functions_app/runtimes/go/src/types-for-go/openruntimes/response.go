package openruntimes

import (
	"bytes"
	"encoding/json"
)

// Response is what Main returns. A zero StatusCode is sent as 200.
type Response struct {
	Body       []byte
	StatusCode int
	Headers    map[string]string

	enabledSetters map[string]bool
}

// New returns a copy of r that the ResponseOption setters can be applied to.
func (r Response) New() *Response {
	r.enabledSetters = map[string]bool{}
	return &r
}

// ResponseOption sets the status code or the headers of a response (WithStatusCode,
// WithHeaders).
type ResponseOption func(*Response)

// ContextResponse builds responses: Context.Res.Text("hi", Context.Res.WithStatusCode(201)).
type ContextResponse struct{}

func (r ContextResponse) WithHeaders(headers map[string]string) ResponseOption {
	return func(o *Response) {
		o.Headers = headers
		if o.enabledSetters == nil {
			o.enabledSetters = map[string]bool{}
		}
		o.enabledSetters["Headers"] = true
	}
}

func (r ContextResponse) WithStatusCode(statusCode int) ResponseOption {
	return func(o *Response) {
		o.StatusCode = statusCode
		if o.enabledSetters == nil {
			o.enabledSetters = map[string]bool{}
		}
		o.enabledSetters["StatusCode"] = true
	}
}

// options applies the setters to defaults: status 200 and a fresh copy of the headers (so a
// map shared between calls or goroutines is never written to).
func options(setters []ResponseOption) (int, map[string]string) {
	o := Response{}.New()
	for _, set := range setters {
		if set != nil {
			set(o)
		}
	}
	status := 200
	if o.enabledSetters["StatusCode"] {
		status = o.StatusCode
	}
	headers := map[string]string{}
	if o.enabledSetters["Headers"] {
		for name, value := range o.Headers {
			headers[name] = value
		}
	}
	return status, headers
}

// Binary answers the bytes as they are.
func (r ContextResponse) Binary(bytes []byte, optionalSetters ...ResponseOption) Response {
	status, headers := options(optionalSetters)
	if bytes == nil {
		bytes = []byte{}
	}
	return Response{Body: bytes, StatusCode: status, Headers: headers}
}

// Text answers the string (UTF-8).
func (r ContextResponse) Text(body string, optionalSetters ...ResponseOption) Response {
	return r.Binary([]byte(body), optionalSetters...)
}

// Send is Text (deprecated upstream).
func (r ContextResponse) Send(body string, optionalSetters ...ResponseOption) Response {
	return r.Text(body, optionalSetters...)
}

// Json answers the value encoded as JSON, with content-type application/json. A value that
// cannot be encoded answers 500 "Error encoding JSON.".
func (r ContextResponse) Json(bodyStruct interface{}, optionalSetters ...ResponseOption) Response {
	status, headers := options(optionalSetters)
	headers["content-type"] = "application/json"
	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(bodyStruct); err != nil {
		return Response{Body: []byte("Error encoding JSON."), StatusCode: 500, Headers: headers}
	}
	return Response{Body: bytes.TrimSuffix(buffer.Bytes(), []byte("\n")), StatusCode: status, Headers: headers}
}

// Empty answers 204 with no body.
func (r ContextResponse) Empty() Response {
	return r.Text("", r.WithStatusCode(204))
}

// Redirect answers 301 (or the given status) with a location header.
func (r ContextResponse) Redirect(url string, optionalSetters ...ResponseOption) Response {
	status, headers := options(append([]ResponseOption{r.WithStatusCode(301)}, optionalSetters...))
	headers["location"] = url
	return Response{Body: []byte{}, StatusCode: status, Headers: headers}
}
