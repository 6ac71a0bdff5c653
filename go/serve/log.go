package serve

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Logger writes one JSON object per line: {"time":...,"level":...,"msg":...,fields...}.
// (Written while the module built with Go 1.19, before log/slog; slog could replace it.) It is safe for concurrent
// use. A nil *Logger discards everything.
type Logger struct {
	mu    sync.Mutex
	w     io.Writer
	debug bool
	now   func() time.Time
}

// NewLogger logs to w; debug enables Debug lines.
func NewLogger(w io.Writer, debug bool) *Logger { return &Logger{w: w, debug: debug, now: time.Now} }

// Info logs msg with fields given as key, value pairs.
func (l *Logger) Info(msg string, kv ...interface{}) { l.log("info", msg, kv) }

// Error logs msg at error level.
func (l *Logger) Error(msg string, kv ...interface{}) { l.log("error", msg, kv) }

// Debug logs msg when debug logging is on.
func (l *Logger) Debug(msg string, kv ...interface{}) {
	if l != nil && l.debug {
		l.log("debug", msg, kv)
	}
}

func (l *Logger) log(level, msg string, kv []interface{}) {
	if l == nil {
		return
	}
	rec := map[string]interface{}{"time": l.now().UTC().Format(time.RFC3339Nano), "level": level, "msg": msg}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			if err, isErr := kv[i+1].(error); isErr {
				rec[k] = err.Error()
				continue
			}
			rec[k] = kv[i+1]
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		b = []byte(`{"level":"error","msg":"log record not encodable"}`)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(append(b, '\n'))
}
