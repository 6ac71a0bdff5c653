package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"unsafe"
)

// maxLine bounds one input line (one text); longer texts would be truncated to 512 tokens
// anyway.
const maxLine = 64 << 20

// input is one text to embed, with the id its JSONL record carried, if any.
type input struct {
	text string
	id   json.RawMessage
}

// recordReader reads input records one at a time: one text per line (lines format), or one
// JSON object per line (jsonl format) with the text in field and an optional id in idField.
// In the lines format every line is a text, empty lines included, so output index i is
// input line i+1; a final newline does not start another text, and "\r\n" line ends are
// accepted. In jsonl, blank lines are skipped and errors name the line.
type recordReader struct {
	sc             *bufio.Scanner
	name           string
	jsonl          bool
	field, idField string
	line           int
}

func newRecordReader(r io.Reader, name string, jsonl bool, field, idField string) *recordReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	return &recordReader{sc: sc, name: name, jsonl: jsonl, field: field, idField: idField}
}

// next returns the next record, or io.EOF after the last.
func (r *recordReader) next() (input, error) { return r.read(false) }

// read returns the next record. With alias, a lines-format text aliases the scanner's buffer
// and is valid only until the next call (see textSource).
func (r *recordReader) read(alias bool) (input, error) {
	for r.sc.Scan() {
		r.line++
		if !r.jsonl {
			b := bytes.TrimSuffix(r.sc.Bytes(), []byte("\r"))
			if alias {
				return input{text: aliasString(b)}, nil
			}
			return input{text: string(b)}, nil
		}
		b := bytes.TrimSpace(r.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		return r.parseJSON(b)
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return input{}, fmt.Errorf("%s: line %d: longer than %d MiB", r.name, r.line+1, maxLine>>20)
		}
		return input{}, fmt.Errorf("%s: line %d: %w", r.name, r.line+1, err)
	}
	return input{}, io.EOF
}

func (r *recordReader) parseJSON(b []byte) (input, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(b, &rec); err != nil || rec == nil {
		if err == nil {
			err = errors.New("null")
		}
		return input{}, fmt.Errorf("%s: line %d: not a JSON object: %w", r.name, r.line, err)
	}
	raw, ok := rec[r.field]
	if !ok {
		return input{}, fmt.Errorf("%s: line %d: no %q field (choose one with --field)", r.name, r.line, r.field)
	}
	var in input
	// json.Unmarshal leaves a string unchanged for null: a null text must be an error, as a
	// number is, not an empty text.
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return input{}, fmt.Errorf("%s: line %d: field %q is null, want a string", r.name, r.line, r.field)
	}
	if err := json.Unmarshal(raw, &in.text); err != nil {
		return input{}, fmt.Errorf("%s: line %d: field %q is not a string", r.name, r.line, r.field)
	}
	if id, ok := rec[r.idField]; ok && r.idField != "" {
		in.id = id
	}
	return in, nil
}

// readAll reads every record (for commands that need them all at once, such as similarity).
func (r *recordReader) readAll() ([]input, error) {
	var out []input
	for {
		in, err := r.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
}

// readLines reads one text per line (see recordReader).
func readLines(r io.Reader, name string) ([]input, error) {
	return newRecordReader(r, name, false, "", "").readAll()
}

// readJSONL reads one JSON object per line (see recordReader).
func readJSONL(r io.Reader, name, field, idField string) ([]input, error) {
	return newRecordReader(r, name, true, field, idField).readAll()
}

// textSource adapts a recordReader to embed.TextSource. The ids of the records it has read
// wait in a queue until the writer takes them, in the same order: Stream emits in input
// order, and reads at most a few windows ahead, so the queue stays short.
type textSource struct {
	r   *recordReader
	mu  sync.Mutex
	ids []json.RawMessage
}

// Next implements embed.TextSource. A lines-format text aliases the scanner's buffer: embed's
// Stream tokenizes it before asking for the next, so a 1 MB line costs no 1 MB allocation
// (measured: a 1 GB input of 1 MB lines peaked at 374 MB RSS with a copy per line, the GC
// letting the garbage pile up, against the engine's own ~200 MB).
func (s *textSource) Next() (string, error) {
	in, err := s.r.read(true)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.ids = append(s.ids, in.id)
	s.mu.Unlock()
	return in.text, nil
}

// popID returns the id of the oldest record not yet written.
func (s *textSource) popID() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.ids[0]
	s.ids[0] = nil
	s.ids = s.ids[1:]
	if len(s.ids) == 0 {
		s.ids = nil // let the backing array go
	}
	return id
}

// aliasString views b as a string without copying; b must not change while the string is in
// use. (unsafe.String needs Go 1.20; this module builds with 1.19.)
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return *(*string)(unsafe.Pointer(&b))
}
