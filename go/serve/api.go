package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// apiError is an error answered with an HTTP status and a JSON body.
type apiError struct {
	status int
	kind   string // TEI error_type / OpenAI error type
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, kind, format string, args ...interface{}) *apiError {
	return &apiError{status: status, kind: kind, msg: fmt.Sprintf(format, args...)}
}

// inputs decodes a JSON value that is a string or an array of strings, as OpenAI's
// "input" and TEI's "inputs" are. field names the field in errors.
func inputs(raw json.RawMessage, field string) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, fmt.Errorf("%q is required: a string or an array of strings", field)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%q: %v", field, err)
		}
		return []string{s}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("%q: %v", field, err)
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("%q is an empty array: give at least one text", field)
		}
		out := make([]string, len(items))
		for i, it := range items {
			it = bytes.TrimSpace(it)
			if len(it) == 0 || it[0] != '"' {
				if len(it) > 0 && (it[0] == '[' || (it[0] >= '0' && it[0] <= '9')) {
					return nil, fmt.Errorf("%q[%d]: token ids are not accepted, only texts", field, i)
				}
				return nil, fmt.Errorf("%q[%d] is not a string", field, i)
			}
			if err := json.Unmarshal(it, &out[i]); err != nil {
				return nil, fmt.Errorf("%q[%d]: %v", field, i, err)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%q must be a string or an array of strings", field)
}

// decodeStrict decodes one JSON object into v, refusing trailing data.
func decodeStrict(body []byte, v interface{}) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}

var errTrailing = errors.New("trailing data after the JSON object")

// isSyntax tells a malformed body (400) from a well-formed one of the wrong shape (422).
func isSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errTrailing)
}

// openAIRequest is POST /v1/embeddings.
type openAIRequest struct {
	Input          json.RawMessage `json:"input"`
	Model          string          `json:"model"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
}

// parsedOpenAI is a validated OpenAI request.
type parsedOpenAI struct {
	texts  []string
	base64 bool
}

// parseOpenAI validates an OpenAI embeddings request body. Every error is a 400
// invalid_request_error, as OpenAI answers.
func parseOpenAI(body []byte, dim int) (*parsedOpenAI, *apiError) {
	var req openAIRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, errorf(400, "invalid_request_error", "malformed request body: %v", err)
	}
	texts, err := inputs(req.Input, "input")
	if err != nil {
		return nil, errorf(400, "invalid_request_error", "%v", err)
	}
	p := &parsedOpenAI{texts: texts}
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		p.base64 = true
	default:
		return nil, errorf(400, "invalid_request_error", "encoding_format %q: want \"float\" or \"base64\"", req.EncodingFormat)
	}
	if req.Dimensions != nil && *req.Dimensions != dim {
		return nil, errorf(400, "invalid_request_error", "dimensions %d: all-MiniLM-L6-v2 has one size, %d; omit dimensions", *req.Dimensions, dim)
	}
	return p, nil
}

// teiRequest is POST /embed (text-embeddings-inference).
type teiRequest struct {
	Inputs    json.RawMessage `json:"inputs"`
	Normalize *bool           `json:"normalize"`
	Truncate  *bool           `json:"truncate"`
	// truncation_direction "Right" is the only direction sentence-transformers uses.
	TruncationDirection string  `json:"truncation_direction"`
	PromptName          *string `json:"prompt_name"`
}

type parsedTEI struct {
	texts     []string
	normalize bool
	truncate  bool
}

// parseTEI validates a TEI /embed body: 400 for malformed JSON, 422 for a well-formed
// request that is wrong, as TEI answers.
func parseTEI(body []byte) (*parsedTEI, *apiError) {
	var req teiRequest
	if err := decodeStrict(body, &req); err != nil {
		if isSyntax(err) {
			return nil, errorf(400, "Validation", "malformed request body: %v", err)
		}
		return nil, errorf(422, "Validation", "invalid request body: %v", err)
	}
	texts, err := inputs(req.Inputs, "inputs")
	if err != nil {
		return nil, errorf(422, "Validation", "%v", err)
	}
	p := &parsedTEI{texts: texts, normalize: true}
	if req.Normalize != nil {
		p.normalize = *req.Normalize
	}
	if req.Truncate != nil {
		p.truncate = *req.Truncate
	}
	switch req.TruncationDirection {
	case "", "Right", "right":
	default:
		return nil, errorf(422, "Validation", "truncation_direction %q: only \"Right\" is supported", req.TruncationDirection)
	}
	if req.PromptName != nil {
		return nil, errorf(422, "Validation", "prompt_name: this model has no prompts")
	}
	return p, nil
}
