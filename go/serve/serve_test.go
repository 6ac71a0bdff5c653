package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"slices"
)

// TestMain counts the model tests skipped without MINILM_MODEL_DIR.
func TestMain(m *testing.M) { os.Exit(testmodel.Main(m)) }

var (
	embOnce sync.Once
	sharedE *embed.Embedder
	embErr  error
)

// embedder is one CPU Embedder shared by the tests (loading the model takes a while).
func embedder(t testing.TB) *embed.Embedder {
	t.Helper()
	dir := testmodel.ModelDir(t)
	embOnce.Do(func() { sharedE, embErr = embed.New(embed.WithModelDir(dir), embed.WithBackend(embed.CPU)) })
	if embErr != nil {
		t.Fatal(embErr)
	}
	return sharedE
}

// startServer runs a server with cfg on an httptest listener until the test ends.
func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s, err := New(embedder(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); cancel(); <-done })
	for deadline := time.Now().Add(60 * time.Second); !s.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("server not ready after 60 s")
		}
	}
	return s, ts.URL
}

// mixedTexts returns n texts of varied length, some long enough to be truncated.
func mixedTexts(n, seed int) []string {
	out := make([]string, n)
	for i := range out {
		k := (i*7919 + seed*104729) % 1000
		words := 1 + k%60
		if k%97 == 0 {
			words = 400
		}
		out[i] = fmt.Sprintf("text %d of client %d: %s", i, seed, strings.Repeat("words repeat ", words/2))
	}
	return out
}

func post(t testing.TB, client *http.Client, url string, body interface{}, header map[string]string) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

type openAIResponse struct {
	Object string `json:"object"`
	Data   []struct {
		Object    string          `json:"object"`
		Index     int             `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

func decodeVec(t testing.TB, raw json.RawMessage) []float32 {
	t.Helper()
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v
	}
	var v []float32
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// offline returns the library's own vectors for texts.
func offline(t testing.TB, texts []string, opts ...embed.CallOption) [][]float32 {
	t.Helper()
	v, err := embedder(t).Embed(context.Background(), texts, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRoutesEqualOffline(t *testing.T) {
	_, url := startServer(t, Config{})
	c := http.DefaultClient
	texts := mixedTexts(20, 1)
	want := offline(t, texts)
	counts, _ := embedder(t).CountTokens(texts)
	tokens := 0
	for _, n := range counts {
		tokens += n.Tokens
	}

	for _, format := range []string{"float", "base64", ""} {
		code, body := post(t, c, url+"/v1/embeddings", map[string]interface{}{"input": texts, "model": "anything", "encoding_format": format}, nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", format, code, body)
		}
		var r openAIResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		if r.Object != "list" || len(r.Data) != len(texts) || r.Usage.PromptTokens != tokens || r.Usage.TotalTokens != tokens || r.Model == "" {
			t.Fatalf("%s: response %+v (want %d tokens)", format, r, tokens)
		}
		for i, d := range r.Data {
			if d.Index != i || d.Object != "embedding" || !slices.Equal(decodeVec(t, d.Embedding), want[i]) {
				t.Fatalf("%s: item %d differs from the library's vector", format, i)
			}
		}
	}
	// A single string.
	code, body := post(t, c, url+"/v1/embeddings", map[string]interface{}{"input": texts[3], "dimensions": 384}, nil)
	var r openAIResponse
	if code != 200 || json.Unmarshal(body, &r) != nil || len(r.Data) != 1 || !slices.Equal(decodeVec(t, r.Data[0].Embedding), want[3]) {
		t.Fatalf("single input: %d %s", code, body)
	}

	// TEI: truncate and normalize.
	code, body = post(t, c, url+"/embed", map[string]interface{}{"inputs": texts, "truncate": true}, nil)
	var tei [][]float32
	if code != 200 || json.Unmarshal(body, &tei) != nil || len(tei) != len(texts) {
		t.Fatalf("tei: %d %s", code, body)
	}
	for i := range tei {
		if !slices.Equal(tei[i], want[i]) {
			t.Fatalf("tei: text %d differs", i)
		}
	}
	raw := offline(t, texts[:2], embed.Normalize(false))
	code, body = post(t, c, url+"/embed", map[string]interface{}{"inputs": texts[:2], "normalize": false}, nil)
	if code != 200 || json.Unmarshal(body, &tei) != nil || !slices.Equal(tei[0], raw[0]) || !slices.Equal(tei[1], raw[1]) {
		t.Fatalf("tei normalize=false: %d %.200s", code, body)
	}
	code, body = post(t, c, url+"/embed", map[string]interface{}{"inputs": "one text"}, nil)
	if code != 200 || json.Unmarshal(body, &tei) != nil || len(tei) != 1 {
		t.Fatalf("tei single: %d %s", code, body)
	}

	// GET routes.
	for _, path := range []string{"/health", "/info", "/metrics"} {
		resp, err := c.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		if path == "/metrics" && !strings.Contains(string(b), "minilm_texts_total") {
			t.Fatalf("/metrics lacks minilm_texts_total")
		}
		if path == "/info" && !strings.Contains(string(b), `"max_input_length":256`) {
			t.Fatalf("/info: %s", b)
		}
	}
}

func TestBadRequests(t *testing.T) {
	_, url := startServer(t, Config{MaxInputs: 8, MaxBodyBytes: 4096})
	long := strings.Repeat("word ", 600)
	tests := []struct {
		name, path, body string
		code             int
		msg              string
	}{
		{"malformed JSON (openai)", "/v1/embeddings", `{"input": ["a"`, 400, "malformed"},
		{"malformed JSON (tei)", "/embed", `{"inputs": `, 400, "malformed"},
		{"empty body", "/embed", ``, 400, "malformed"},
		{"trailing data", "/embed", `{"inputs": "a"} {}`, 400, "trailing"},
		{"input missing", "/v1/embeddings", `{"model": "x"}`, 400, `"input" is required`},
		{"input null", "/v1/embeddings", `{"input": null}`, 400, `"input" is required`},
		{"input number", "/v1/embeddings", `{"input": 5}`, 400, "string or an array"},
		{"input empty array", "/v1/embeddings", `{"input": []}`, 400, "empty array"},
		{"input array of numbers", "/v1/embeddings", `{"input": [1, 2]}`, 400, "token ids are not accepted"},
		{"input array of arrays", "/v1/embeddings", `{"input": [[1, 2]]}`, 400, "token ids"},
		{"input mixed", "/v1/embeddings", `{"input": ["a", null]}`, 400, `"input"[1] is not a string`},
		{"dimensions", "/v1/embeddings", `{"input": "a", "dimensions": 256}`, 400, "one size, 384"},
		{"encoding format", "/v1/embeddings", `{"input": "a", "encoding_format": "int8"}`, 400, "encoding_format"},
		{"model wrong type", "/v1/embeddings", `{"input": "a", "model": 3}`, 400, "malformed"},
		{"inputs wrong type (tei)", "/embed", `{"inputs": {"a": 1}}`, 422, "string or an array"},
		{"normalize wrong type", "/embed", `{"inputs": "a", "normalize": "yes"}`, 422, "invalid request"},
		{"inputs empty", "/embed", `{"inputs": []}`, 422, "empty array"},
		{"prompt name", "/embed", `{"inputs": "a", "prompt_name": "query"}`, 422, "no prompts"},
		{"left truncation", "/embed", `{"inputs": "a", "truncation_direction": "Left"}`, 422, "Right"},
		{"too long without truncate", "/embed", `{"inputs": ["ok", "` + long + `"]}`, 413, "inputs[1] has more than 256 tokens"},
		{"too many inputs", "/embed", `{"inputs": ["a","b","c","d","e","f","g","h","i"]}`, 413, "9 texts"},
		{"body too large", "/embed", `{"inputs": "` + strings.Repeat("x", 5000) + `"}`, 413, "over 4096 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(url+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var body map[string]interface{}
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatalf("error body is not JSON: %s", b)
			}
			msg, _ := body["error"].(string)
			if e, ok := body["error"].(map[string]interface{}); ok {
				msg, _ = e["message"].(string)
			}
			if resp.StatusCode != tc.code || !strings.Contains(msg, tc.msg) {
				t.Fatalf("%d %s, want %d with %q", resp.StatusCode, b, tc.code, tc.msg)
			}
			if tc.path == "/v1/embeddings" {
				if e, ok := body["error"].(map[string]interface{}); !ok || e["type"] != "invalid_request_error" {
					t.Fatalf("OpenAI error shape: %s", b)
				}
			} else if _, ok := body["error_type"]; !ok {
				t.Fatalf("TEI error shape: %s", b)
			}
		})
	}
	resp, err := http.Get(url + "/embed")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET /embed: %d", resp.StatusCode)
	}
	resp, err = http.Get(url + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /nope: %d", resp.StatusCode)
	}
}

func TestAPIKey(t *testing.T) {
	var logs bytes.Buffer
	_, url := startServer(t, Config{APIKey: "s3cret-key", Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	body := map[string]interface{}{"input": "hello"}
	for _, tc := range []struct {
		header string
		code   int
	}{{"", 401}, {"Bearer wrong", 401}, {"Basic s3cret-key", 401}, {"Bearer s3cret-key", 200}, {"bearer s3cret-key", 200}} {
		h := map[string]string{}
		if tc.header != "" {
			h["Authorization"] = tc.header
		}
		if code, b := post(t, http.DefaultClient, url+"/v1/embeddings", body, h); code != tc.code {
			t.Errorf("Authorization %q: %d %s, want %d", tc.header, code, b, tc.code)
		}
	}
	if resp, err := http.Get(url + "/health"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/health needs no key: %v %v", resp, err)
	}
	if strings.Contains(logs.String(), "s3cret-key") {
		t.Error("the API key was logged")
	}
	if !strings.Contains(logs.String(), `"msg":"request"`) || !strings.Contains(logs.String(), `"batch_texts"`) {
		t.Errorf("no access log lines: %.500s", logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"DEBUG","msg":"batch"`) || !strings.Contains(logs.String(), `"infer_ms"`) {
		t.Errorf("no debug line per batch: %.500s", logs.String())
	}
}

func TestNotReadyBeforeWarmUp(t *testing.T) {
	s, err := New(embedder(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler()) // the batcher is not running: no warm-up
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("/health before warm-up: %d", resp.StatusCode)
	}
}

// metricValue reads a sample from the Prometheus text exposition.
func metricValue(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /metrics", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// loadResult counts the outcomes of a load run.
type loadResult struct {
	ok, rejected, failed, wrong int64
}

// runLoad sends, from clients goroutines, requests single texts and small batches of mixed
// length, checking every answer against the offline vectors.
func runLoad(t *testing.T, url string, clients, requests int, want map[string][]float32) loadResult {
	t.Helper()
	var res loadResult
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 120 * time.Second}
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			texts := mixedTexts(requests*3, c)
			for r := 0; r < requests; r++ {
				n := 1 + (r+c)%3
				batch := texts[3*r : 3*r+n]
				code, body := postNoFatal(client, url+"/v1/embeddings", map[string]interface{}{"input": batch})
				switch {
				case code == 429:
					atomic.AddInt64(&res.rejected, 1)
					continue
				case code != 200:
					atomic.AddInt64(&res.failed, 1)
					t.Errorf("client %d request %d: %d %.300s", c, r, code, body)
					continue
				}
				var resp openAIResponse
				if err := json.Unmarshal(body, &resp); err != nil || len(resp.Data) != n {
					atomic.AddInt64(&res.wrong, 1)
					continue
				}
				for i, d := range resp.Data {
					if !slices.Equal(decodeVec(t, d.Embedding), want[batch[i]]) {
						atomic.AddInt64(&res.wrong, 1)
					}
				}
				atomic.AddInt64(&res.ok, 1)
			}
		}(c)
	}
	wg.Wait()
	return res
}

func postNoFatal(client *http.Client, url string, body interface{}) (int, []byte) {
	b, _ := json.Marshal(body)
	resp, err := client.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return -1, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// offlineMap embeds every text the load run may send, once, offline.
func offlineMap(t *testing.T, clients, requests int) map[string][]float32 {
	var all []string
	for c := 0; c < clients; c++ {
		all = append(all, mixedTexts(requests*3, c)...)
	}
	vecs := offline(t, all)
	m := make(map[string][]float32, len(all))
	for i, s := range all {
		m[s] = vecs[i]
	}
	return m
}

// TestLoad: 64 concurrent clients; no errors, no lost or swapped results, every vector the
// offline one bit for bit, batches formed across requests, memory bounded.
func TestLoad(t *testing.T) {
	const clients, requests = 64, 6
	want := offlineMap(t, clients, requests)
	_, url := startServer(t, Config{MaxWait: 5 * time.Millisecond})
	before := heapAfterGC()
	res := runLoad(t, url, clients, requests, want)
	// Memory stays bounded: nothing of the requests is retained once they are answered
	// (a leak check on the live heap after GC, not a speed or size benchmark).
	grown := int64(heapAfterGC()) - int64(before)
	t.Logf("live heap after the load: %+.1f MiB", float64(grown)/(1<<20))
	if grown > 2<<20 {
		t.Errorf("live heap grew by %d MiB over %d requests", grown>>20, clients*requests)
	}
	if res.ok != clients*requests || res.rejected+res.failed+res.wrong != 0 {
		t.Fatalf("%+v, want %d ok and nothing else", res, clients*requests)
	}
	batches := metricValue(t, url, "minilm_batch_requests_count")
	reqs := metricValue(t, url, "minilm_batch_requests_sum")
	if reqs/batches < 1.5 {
		t.Errorf("%.0f requests in %.0f batches: no cross-request batching", reqs, batches)
	}
	t.Logf("%.0f requests in %.0f batches (%.1f per batch)", reqs, batches, reqs/batches)
	if depth := metricValue(t, url, "minilm_queue_depth"); depth != 0 {
		t.Errorf("queue depth %v after the run", depth)
	}
}

// heapAfterGC is the live heap after a full collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestBackpressure: past MaxConcurrentRequests the server answers 429 at once, and every
// admitted request still gets its right answer.
func TestBackpressure(t *testing.T) {
	const clients, requests = 64, 4
	want := offlineMap(t, clients, requests)
	_, url := startServer(t, Config{MaxConcurrentRequests: 4})
	res := runLoad(t, url, clients, requests, want)
	if res.rejected == 0 || res.failed != 0 || res.wrong != 0 || res.ok == 0 {
		t.Fatalf("%+v: want some 429s, no failures", res)
	}
	t.Logf("%d answered, %d refused with 429", res.ok, res.rejected)
}

// TestCancelledRequestsAreDropped: a request whose client has gone before its batch forms
// costs no encoder work.
func TestCancelledRequestsAreDropped(t *testing.T) {
	s, url := startServer(t, Config{})
	before := metricValue(t, url, "minilm_texts_total")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j := &job{ctx: ctx, texts: []string{"never embedded"}, tokens: 4, normalize: true, enqueued: time.Now(), done: make(chan jobResult, 1)}
	s.batcher.submit(j)
	if r := <-j.done; r.err == nil {
		t.Fatal("a cancelled job was embedded")
	}
	batchesBefore := metricValue(t, url, "minilm_batch_requests_count")
	// A live request right after: the batcher is still serving.
	if code, body := post(t, http.DefaultClient, url+"/embed", map[string]interface{}{"inputs": "x"}, nil); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if got := metricValue(t, url, "minilm_texts_total"); got != before+1 {
		t.Errorf("texts_total %v → %v: the cancelled job's text was counted", before, got)
	}
	if got := metricValue(t, url, "minilm_batch_requests_count"); got != batchesBefore+1 {
		t.Errorf("%v batches for one live request", got-batchesBefore)
	}
}

// TestDrain: cancelling Serve's context mid-load stops accepting and answers every admitted
// request before Serve returns nil.
func TestDrain(t *testing.T) {
	s, err := New(embedder(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 0) }()
	for deadline := time.Now().Add(60 * time.Second); !s.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
	}
	var wg sync.WaitGroup
	var answered, refused int64
	started := make(chan struct{}, 32)
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			client := &http.Client{Timeout: 120 * time.Second}
			started <- struct{}{}
			code, _ := postNoFatal(client, url+"/embed", map[string]interface{}{"inputs": mixedTexts(8, c), "truncate": true})
			switch code {
			case 200:
				atomic.AddInt64(&answered, 1)
			case -1:
				atomic.AddInt64(&refused, 1) // connection refused after shutdown began: never admitted
			default:
				t.Errorf("client %d: status %d during drain", c, code)
			}
		}(c)
	}
	for i := 0; i < 32; i++ {
		<-started
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	wg.Wait()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if answered == 0 {
		t.Fatal("no request was answered")
	}
	t.Logf("%d answered, %d not admitted", answered, refused)
}
