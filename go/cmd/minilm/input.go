package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// maxLine bounds one input line (one text); longer texts would be truncated to 512 tokens
// anyway.
const maxLine = 64 << 20

// input is one text to embed, with the id its JSONL record carried, if any.
type input struct {
	text string
	id   json.RawMessage
}

// readLines reads one text per line. Every line is a text, empty lines included, so output
// index i is input line i+1; a final newline does not start another text, and "\r\n" line
// ends are accepted.
func readLines(r io.Reader, name string) ([]input, error) {
	var out []input
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		out = append(out, input{text: strings.TrimSuffix(sc.Text(), "\r")})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, len(out)+1, err)
	}
	return out, nil
}

// readJSONL reads one JSON object per line and takes the text from field and the id, if
// present, from idField. Blank lines are skipped.
func readJSONL(r io.Reader, name, field, idField string) ([]input, error) {
	var out []input
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("%s: line %d: not a JSON object: %w", name, line, err)
		}
		raw, ok := rec[field]
		if !ok {
			return nil, fmt.Errorf("%s: line %d: no %q field (choose one with --field)", name, line, field)
		}
		var in input
		if err := json.Unmarshal(raw, &in.text); err != nil {
			return nil, fmt.Errorf("%s: line %d: field %q is not a string", name, line, field)
		}
		if id, ok := rec[idField]; ok && idField != "" {
			in.id = id
		}
		out = append(out, in)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
