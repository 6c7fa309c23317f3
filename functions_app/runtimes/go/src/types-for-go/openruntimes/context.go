// Package openruntimes is this platform's implementation of the API of
// github.com/open-runtimes/types-for-go/v4/openruntimes (v4.0.6 and later): the types a Go
// function receives and returns. The runtime image serves it under that module path (a replace
// directive, or the user's vendor/ copy overwritten), so functions written for Appwrite build
// here unchanged and offline.
//
// The code is written for the Go 1.16 language level (no generics, no `any`), because it may be
// compiled with the language version of a user's vendor/modules.txt.
package openruntimes

import (
	"encoding/json"
	"errors"
	"strings"
)

const LOGGER_TYPE_LOG = "log"
const LOGGER_TYPE_ERROR = "error"

// Context is what Main receives: the request, the response builders, and Log/Error.
type Context struct {
	logger Logger

	Req ContextRequest
	Res ContextResponse
}

// NewContext returns a context whose Log and Error write through logger.
func NewContext(logger Logger) Context {
	return Context{logger: logger}
}

// Log is a message that is written as its text.
type Log struct {
	Message string
}

func (l Log) String() string {
	return l.Message
}

// Log writes the messages, space-joined, as one line of the execution's logs. Strings are
// written as they are, errors as their message, maps, slices and structs as JSON.
func (c *Context) Log(messages ...interface{}) {
	c.logger.Write(messages, LOGGER_TYPE_LOG, false)
}

// Error writes the messages as one line of the execution's errors.
func (c *Context) Error(messages ...interface{}) {
	c.logger.Write(messages, LOGGER_TYPE_ERROR, false)
}

// ContextRequest is the request. Header names are lower-case; x-open-runtimes-* headers are
// removed. Query holds the query string split on & and on the first =, not decoded.
type ContextRequest struct {
	bodyBinary  []byte
	Headers     map[string]string
	Method      string
	Url         string
	Path        string
	Port        int
	Scheme      string
	Host        string
	QueryString string
	Query       map[string]string
}

func (r *ContextRequest) SetBodyBinary(bytes []byte) {
	r.bodyBinary = bytes
}

// BodyBinary is the raw request body.
func (r ContextRequest) BodyBinary() []byte {
	return r.bodyBinary
}

// BodyText is the request body as a string.
func (r ContextRequest) BodyText() string {
	return string(r.bodyBinary)
}

// BodyRaw is BodyText (deprecated upstream).
func (r ContextRequest) BodyRaw() string {
	return r.BodyText()
}

// BodyJson decodes the body as JSON into v (a pointer), like json.Unmarshal.
func (r ContextRequest) BodyJson(v interface{}) error {
	if err := json.Unmarshal(r.bodyBinary, v); err != nil {
		return errors.New("could not parse body into a JSON")
	}
	return nil
}

// Body is the decoded JSON body (an empty map when it is empty or not JSON) when the
// content-type is application/json, else the body text.
func (r ContextRequest) Body() interface{} {
	contentType := strings.ToLower(strings.TrimSpace(r.Headers["content-type"]))
	if !strings.HasPrefix(contentType, "application/json") {
		return r.BodyText()
	}
	var value interface{}
	if len(r.bodyBinary) == 0 || json.Unmarshal(r.bodyBinary, &value) != nil || value == nil {
		return map[string]interface{}{}
	}
	return value
}
