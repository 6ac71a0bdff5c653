package serve

import "testing"

// FuzzParse: request parsing never panics, and accepts only requests with at least one text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"input":"a"}`, `{"input":["a","b"],"encoding_format":"base64"}`, `{"inputs":"a","normalize":false}`,
		`{"input":[[1,2]]}`, `{"input":[]}`, `{"inputs":null}`, `{"dimensions":384,"input":"x"}`, `[]`, `"`, `{"input":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if p, err := parseOpenAI(body, 384); err == nil && len(p.texts) == 0 {
			t.Fatalf("openai: accepted %q with no texts", body)
		} else if err != nil && (err.status < 400 || err.status > 499) {
			t.Fatalf("openai: status %d", err.status)
		}
		if p, err := parseTEI(body); err == nil && len(p.texts) == 0 {
			t.Fatalf("tei: accepted %q with no texts", body)
		} else if err != nil && (err.status < 400 || err.status > 499) {
			t.Fatalf("tei: status %d", err.status)
		}
	})
}
