package openruntimes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"strconv"
	"sync"
	"time"
)

const (
	logLimit     = 8000
	truncated    = "... Log truncated due to size limit (8000 characters)"
	nativeNotice = "Native logs detected. Use context.Log() or context.Error() for better experience."
)

// Logger writes one request's logs and errors to <logs dir>/<id>_logs.log and
// <id>_errors.log. The files are created on the first write. Copies of a Logger share their
// state, and it is safe for concurrent use.
type Logger struct {
	Enabled bool
	Id      string

	state *loggerState
}

type loggerState struct {
	mutex              sync.Mutex
	enabled            bool
	includesNativeInfo bool
	dir                string
	logs               *os.File
	errors             *os.File
}

// NewLogger returns the logger of one request from its x-open-runtimes-logging (empty or
// "enabled" enables it) and x-open-runtimes-log-id headers. An id that is not 1-128 of
// [A-Za-z0-9_-] is replaced by a generated one ("dev" when OPEN_RUNTIMES_ENV=development).
func NewLogger(status string, id string) (Logger, error) {
	enabled := status == "" || status == "enabled"
	logger := Logger{Enabled: enabled, state: &loggerState{enabled: enabled}}
	if !enabled {
		return logger, nil
	}
	if validLogId(id) {
		logger.Id = id
	} else if os.Getenv("OPEN_RUNTIMES_ENV") == "development" {
		logger.Id = "dev"
	} else {
		logger.Id = generateId(7)
	}
	logger.state.dir = os.Getenv("OPEN_RUNTIMES_LOGS_DIR")
	if logger.state.dir == "" {
		logger.state.dir = "/mnt/logs"
	}
	return logger, nil
}

// Write writes the messages, space-joined and cut at 8000 characters, as one line of the logs
// (xtype "log") or errors ("error"). Native output (xnative) is preceded once by a notice.
// Write failures are ignored.
func (l *Logger) Write(messages []interface{}, xtype string, xnative bool) {
	state := l.state
	if state == nil {
		return
	}
	text := format(messages...)
	state.mutex.Lock()
	defer state.mutex.Unlock()
	if !state.enabled {
		return
	}
	var line bytes.Buffer
	if xnative && !state.includesNativeInfo {
		state.includesNativeInfo = true
		line.WriteString(nativeNotice + "\n")
	}
	if cut, ok := cutAt(text, logLimit); ok {
		line.WriteString(text[:cut])
		line.WriteString(truncated)
		line.WriteString("\n")
	} else {
		line.WriteString(text)
		if !xnative || text == "" || text[len(text)-1] != '\n' {
			line.WriteString("\n")
		}
	}
	file := state.stream(l.Id, xtype == LOGGER_TYPE_ERROR)
	if file != nil {
		file.Write(line.Bytes())
	}
}

// End closes the files; later writes are dropped.
func (l *Logger) End() {
	state := l.state
	if state == nil {
		return
	}
	state.mutex.Lock()
	defer state.mutex.Unlock()
	state.enabled = false
	l.Enabled = false
	for _, file := range []**os.File{&state.logs, &state.errors} {
		if *file != nil {
			(*file).Close()
			*file = nil
		}
	}
}

func (s *loggerState) stream(id string, errors bool) *os.File {
	target, suffix := &s.logs, "_logs.log"
	if errors {
		target, suffix = &s.errors, "_errors.log"
	}
	if *target == nil {
		file, err := os.OpenFile(s.dir+"/"+id+suffix, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0644)
		if err != nil {
			return nil
		}
		*target = file
	}
	return *target
}

// format joins the messages with spaces the way Log writes them: strings, Log values, errors
// and fmt.Stringers as their text, nil as null, numbers and booleans as Go prints them, []byte
// as text, and anything else (maps, slices, structs, pointers) as JSON, or as %+v when it cannot
// be encoded.
func format(messages ...interface{}) string {
	var out bytes.Buffer
	for i, message := range messages {
		if i > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(formatOne(message))
	}
	return out.String()
}

func formatOne(message interface{}) string {
	switch v := message.(type) {
	case nil:
		return "null"
	case string:
		return v
	case Log:
		return v.String()
	case []byte:
		return string(v)
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr,
		float32, float64, complex64, complex128:
		return fmt.Sprint(v)
	}
	value := reflect.ValueOf(message)
	switch value.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return fmt.Sprint(message)
	case reflect.Ptr, reflect.Map, reflect.Slice, reflect.Interface:
		if value.IsNil() {
			return "null"
		}
	}
	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(message); err != nil {
		return fmt.Sprintf("%+v", message)
	}
	return string(bytes.TrimSuffix(buffer.Bytes(), []byte("\n")))
}

// cutAt is the byte offset after the first limit characters, when text is longer.
func cutAt(text string, limit int) (int, bool) {
	if len(text) <= limit {
		return 0, false
	}
	count := 0
	for offset := range text {
		if count == limit {
			return offset, true
		}
		count++
	}
	return 0, false
}

func validLogId(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

var idRandom = struct {
	sync.Mutex
	*rand.Rand
}{Rand: rand.New(rand.NewSource(time.Now().UnixNano() ^ int64(os.Getpid())<<20))}

// generateId is like PHP's uniqid: unix seconds (8 hex), microseconds (5 hex), then padding
// random hex digits.
func generateId(padding int) string {
	now := time.Now()
	id := fmt.Sprintf("%08x%05x", now.Unix(), now.Nanosecond()/1000)
	idRandom.Lock()
	defer idRandom.Unlock()
	for i := 0; i < padding; i++ {
		id += strconv.FormatInt(int64(idRandom.Intn(16)), 16)
	}
	return id
}
