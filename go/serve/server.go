// Package serve is an HTTP embedding server on an embed.Embedder, compatible with the
// OpenAI embeddings API (POST /v1/embeddings) and Hugging Face text-embeddings-inference
// (POST /embed), with GET /health, /info and /metrics (Prometheus).
//
// Requests are batched across clients: every admitted request joins one queue, and a
// batcher forms batches by a token budget (Config.MaxBatchTokens, MaxBatchRequests), waiting
// at most Config.MaxWait for a batch to fill, then runs each batch as one Encode call, whose
// planner cuts it into the backend's shapes. Each response holds exactly the vectors an
// offline Embed of the same texts gives: on the CPU backend bit for bit whatever else shared
// the batch (each text's computation is independent of the others').
//
// Admission is bounded: past Config.MaxConcurrentRequests requests in flight the server
// answers 429 at once instead of queueing without bound; a body over MaxBodyBytes or more
// than MaxInputs texts is answered 413. A client that disconnects drops its texts from
// batches not yet started, and a batch all of whose clients left is cancelled.
package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minilm-coreml/minilm/go/embed"
)

// Config sets the server's limits; a zero field takes the default named beside it.
type Config struct {
	// ModelName is reported in responses and /info (default "sentence-transformers/all-MiniLM-L6-v2").
	ModelName string
	// MaxBatchTokens is the token budget of one batch (default 16384).
	MaxBatchTokens int
	// MaxBatchRequests is the most requests one batch joins (default 64).
	MaxBatchRequests int
	// MaxWait is the longest a batch waits to fill once its first request is taken
	// (default 5ms): the bound on the delay batching adds to a request. A batch waits only
	// under load (the previous batch held more than one request).
	MaxWait time.Duration
	// MaxConcurrentRequests is the most requests admitted at once; more get 429 (default 512).
	MaxConcurrentRequests int
	// MaxInputs is the most texts in one request; more get 413 (default 2048).
	MaxInputs int
	// MaxBodyBytes bounds a request body; larger get 413 (default 8 MiB).
	MaxBodyBytes int64
	// APIKey, if set, must be sent as "Authorization: Bearer <key>" on every route but
	// /health. It is compared in constant time and never logged.
	APIKey string
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the http.Server's
	// (defaults 10s, 60s, 120s, 120s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Logger receives one record per request and the server's events, and at debug level one
	// per batch run (default: none). minilm serve logs JSON lines (slog.JSONHandler).
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.ModelName == "" {
		c.ModelName = "sentence-transformers/all-MiniLM-L6-v2"
	}
	set := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	set(&c.MaxBatchTokens, 16384)
	set(&c.MaxBatchRequests, 64)
	set(&c.MaxConcurrentRequests, 512)
	set(&c.MaxInputs, 2048)
	if c.MaxWait == 0 {
		c.MaxWait = 5 * time.Millisecond
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 8 << 20
	}
	setD := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	setD(&c.ReadHeaderTimeout, 10*time.Second)
	setD(&c.ReadTimeout, 60*time.Second)
	setD(&c.WriteTimeout, 120*time.Second)
	setD(&c.IdleTimeout, 120*time.Second)
	for name, v := range map[string]int{"MaxBatchTokens": c.MaxBatchTokens, "MaxBatchRequests": c.MaxBatchRequests,
		"MaxConcurrentRequests": c.MaxConcurrentRequests, "MaxInputs": c.MaxInputs} {
		if v < 1 {
			return fmt.Errorf("serve: %s %d: must be positive", name, v)
		}
	}
	if c.MaxWait < 0 || c.MaxBodyBytes < 1 {
		return fmt.Errorf("serve: MaxWait %v and MaxBodyBytes %d must be positive", c.MaxWait, c.MaxBodyBytes)
	}
	return nil
}

// Server serves one Embedder. Create it with New, then call Serve.
type Server struct {
	emb     *embed.Embedder
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	batcher *batcher
	admit   chan struct{} // a slot per admitted request
	keyHash [sha256.Size]byte
	ready   int32 // set once the warm-up batch ran
	mux     *http.ServeMux
}

// New returns a server for e. The caller keeps ownership of e and closes it after Serve
// returns.
func New(e *embed.Embedder, cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{emb: e, cfg: cfg, log: log, metrics: newMetrics(),
		admit: make(chan struct{}, cfg.MaxConcurrentRequests)}
	s.keyHash = sha256.Sum256([]byte(cfg.APIKey))
	s.batcher = &batcher{emb: e, queue: make(chan *job, cfg.MaxConcurrentRequests), maxTokens: cfg.MaxBatchTokens,
		maxRequests: cfg.MaxBatchRequests, maxWait: cfg.MaxWait, metrics: s.metrics, log: log}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/v1/embeddings", s.route("/v1/embeddings", http.MethodPost, s.openAI))
	s.mux.HandleFunc("/embeddings", s.route("/v1/embeddings", http.MethodPost, s.openAI))
	s.mux.HandleFunc("/embed", s.route("/embed", http.MethodPost, s.tei))
	s.mux.HandleFunc("/health", s.route("/health", http.MethodGet, s.health))
	s.mux.HandleFunc("/info", s.route("/info", http.MethodGet, s.info))
	metricsHandler := s.metrics.handler()
	s.mux.HandleFunc("/metrics", s.route("/metrics", http.MethodGet, func(w http.ResponseWriter, r *http.Request) *apiError {
		metricsHandler.ServeHTTP(w, r)
		return nil
	}))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, "/", errorf(http.StatusNotFound, "NotFound", "no route %s %s: try POST /v1/embeddings, POST /embed, GET /health, /info or /metrics", r.Method, r.URL.Path))
	})
	return s, nil
}

// Handler returns the server's routes, for tests and for mounting under another server.
// The batcher must be running: use Serve, or Run for a handler without a listener.
func (s *Server) Handler() http.Handler { return s.mux }

// Ready reports whether the warm-up batch has run (GET /health answers 200 from then on).
func (s *Server) Ready() bool { return atomic.LoadInt32(&s.ready) == 1 }

// Run runs the batcher and the warm-up until ctx is done. Serve calls it; tests that use
// Handler call it themselves.
func (s *Server) Run(ctx context.Context) {
	go s.warmUp(ctx)
	s.batcher.run(ctx)
}

// warmUp runs one batch of texts of several lengths through the batcher, so that the first
// client does not pay for first-use costs, then marks the server ready.
func (s *Server) warmUp(ctx context.Context) {
	texts := []string{"warm up", strings.Repeat("a somewhat longer warm-up text ", 8), strings.Repeat("long ", 200)}
	counts, err := s.emb.CountTokens(texts)
	if err != nil {
		s.log.Error("warm-up failed", "error", err)
		return
	}
	j := &job{ctx: ctx, texts: texts, normalize: true, enqueued: time.Now(), done: make(chan jobResult, 1)}
	for _, c := range counts {
		j.tokens += c.Tokens
	}
	start := time.Now()
	s.batcher.submit(j)
	select {
	case r := <-j.done:
		if r.err != nil {
			s.log.Error("warm-up failed", "error", r.err)
			return
		}
	case <-ctx.Done():
		return
	}
	atomic.StoreInt32(&s.ready, 1)
	s.log.Info("ready", "backend", s.emb.Backend(), "warmup_ms", time.Since(start).Milliseconds())
}

// Serve accepts connections on ln until ctx is done, then drains: it stops accepting, lets
// admitted requests finish (up to drain; 0 means wait for them all), and returns nil after a
// clean drain.
func (s *Server) Serve(ctx context.Context, ln net.Listener, drain time.Duration) error {
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, ReadTimeout: s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout, IdleTimeout: s.cfg.IdleTimeout, MaxHeaderBytes: 64 << 10}
	bctx, stopBatcher := context.WithCancel(context.Background())
	batcherDone := make(chan struct{})
	go func() { s.Run(bctx); close(batcherDone) }()
	defer func() { stopBatcher(); <-batcherDone }()

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("draining", "in_flight", len(s.admit))
	sctx := context.Background()
	if drain > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(sctx, drain)
		defer cancel()
	}
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: draining: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// route wraps a handler with the method check, authentication, metrics and the access log.
func (s *Server) route(name, method string, h func(http.ResponseWriter, *http.Request) *apiError) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		var err *apiError
		switch {
		case r.Method != method:
			rw.Header().Set("Allow", method)
			err = errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s %s: use %s", r.Method, r.URL.Path, method)
		case name != "/health" && !s.authorized(r):
			s.metrics.rejected.WithLabelValues("unauthorized").Inc()
			rw.Header().Set("WWW-Authenticate", `Bearer realm="minilm"`)
			err = errorf(http.StatusUnauthorized, "Unauthorized", "missing or wrong API key: send Authorization: Bearer <key>")
		default:
			err = h(rw, r)
		}
		if err != nil {
			s.writeError(rw, name, err)
		}
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(name, strconv.Itoa(rw.status)).Inc()
		s.metrics.latency.WithLabelValues(name).Observe(elapsed.Seconds())
		if name != "/metrics" && name != "/health" {
			kv := []any{"method", r.Method, "route", name, "status", rw.status,
				"latency_ms", float64(elapsed.Microseconds()) / 1000, "remote", r.RemoteAddr}
			if rw.texts > 0 {
				kv = append(kv, "texts", rw.texts, "tokens", rw.tokens, "batch_texts", rw.batchTexts)
			}
			if err != nil {
				kv = append(kv, "error", err.msg)
			}
			s.log.Info("request", kv...)
		}
	}
}

// statusWriter records what the access log reports.
type statusWriter struct {
	http.ResponseWriter
	status                    int
	texts, tokens, batchTexts int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.APIKey == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return false
	}
	// Hashing first makes the comparison independent of the key's length too.
	got := sha256.Sum256([]byte(strings.TrimSpace(auth[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], s.keyHash[:]) == 1
}

// writeError answers err in the route's format: OpenAI's {"error":{...}} on /v1/embeddings,
// TEI's {"error":..., "error_type":...} elsewhere.
func (s *Server) writeError(w http.ResponseWriter, route string, err *apiError) {
	var body interface{}
	if route == "/v1/embeddings" {
		body = map[string]interface{}{"error": map[string]interface{}{"message": err.msg, "type": err.kind, "param": nil, "code": nil}}
	} else {
		body = map[string]interface{}{"error": err.msg, "error_type": err.kind}
	}
	if err.status == http.StatusTooManyRequests || err.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, err.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client may have gone; nothing to do about it
}

// readBody reads a request body within the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.metrics.rejected.WithLabelValues("too_large").Inc()
			return nil, errorf(http.StatusRequestEntityTooLarge, "Validation", "request body over %d bytes", s.cfg.MaxBodyBytes)
		}
		return nil, errorf(http.StatusBadRequest, "Validation", "reading the request body: %v", err)
	}
	return body, nil
}

// embedTexts admits a request and runs its texts through the batcher. maxSeqError, if set,
// refuses texts longer than the token limit instead of truncating them.
func (s *Server) embedTexts(w *statusWriter, r *http.Request, texts []string, normalize, refuseLong bool) ([]embed.Embedding, int, *apiError) {
	if len(texts) > s.cfg.MaxInputs {
		s.metrics.rejected.WithLabelValues("too_large").Inc()
		return nil, 0, errorf(http.StatusRequestEntityTooLarge, "Validation", "%d texts in one request; at most %d", len(texts), s.cfg.MaxInputs)
	}
	select {
	case s.admit <- struct{}{}:
	default:
		s.metrics.rejected.WithLabelValues("overloaded").Inc()
		return nil, 0, errorf(http.StatusTooManyRequests, "Overloaded", "%d requests in flight: retry later", s.cfg.MaxConcurrentRequests)
	}
	defer func() { <-s.admit }()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()

	counts, err := s.emb.CountTokens(texts)
	if err != nil {
		return nil, 0, errorf(http.StatusInternalServerError, "Backend", "%v", err)
	}
	tokens := 0
	for i, c := range counts {
		if refuseLong && c.Truncated {
			return nil, 0, errorf(http.StatusRequestEntityTooLarge, "Validation", "inputs[%d] has more than %d tokens: send truncate=true to cut it", i, s.emb.MaxSeqLength())
		}
		tokens += c.Tokens
	}
	j := &job{ctx: r.Context(), texts: texts, tokens: tokens, normalize: normalize, enqueued: time.Now(), done: make(chan jobResult, 1)}
	s.batcher.submit(j)
	res := <-j.done // the batcher answers every job, also on cancellation and shutdown
	if res.err != nil {
		if r.Context().Err() != nil {
			// 499 in nginx's convention: the client closed the request; nobody reads this.
			return nil, 0, errorf(499, "Cancelled", "client closed the request")
		}
		return nil, 0, errorf(http.StatusInternalServerError, "Backend", "embedding failed: %v", res.err)
	}
	w.texts, w.tokens, w.batchTexts = len(texts), tokens, res.batchTexts
	s.metrics.texts.Add(float64(len(texts)))
	s.metrics.tokens.Add(float64(tokens))
	return res.embs, tokens, nil
}

// openAI serves POST /v1/embeddings.
func (s *Server) openAI(w http.ResponseWriter, r *http.Request) *apiError {
	body, aerr := s.readBody(w, r)
	if aerr != nil {
		aerr.kind = "invalid_request_error"
		return aerr
	}
	req, aerr := parseOpenAI(body, s.emb.Dim())
	if aerr != nil {
		s.metrics.rejected.WithLabelValues("invalid").Inc()
		return aerr
	}
	embs, tokens, aerr := s.embedTexts(w.(*statusWriter), r, req.texts, true, false)
	if aerr != nil {
		if aerr.status == http.StatusRequestEntityTooLarge || aerr.status < 500 {
			aerr.kind = "invalid_request_error"
		}
		return aerr
	}
	type item struct {
		Object    string      `json:"object"`
		Index     int         `json:"index"`
		Embedding interface{} `json:"embedding"`
	}
	data := make([]item, len(embs))
	for i, e := range embs {
		data[i] = item{Object: "embedding", Index: i, Embedding: floats(e.Float32)}
		if req.base64 {
			data[i].Embedding = base64Floats(e.Float32)
		}
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{
		"object": "list",
		"data":   data,
		"model":  s.cfg.ModelName,
		"usage":  map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
	return nil
}

// tei serves POST /embed.
func (s *Server) tei(w http.ResponseWriter, r *http.Request) *apiError {
	body, aerr := s.readBody(w, r)
	if aerr != nil {
		return aerr
	}
	req, aerr := parseTEI(body)
	if aerr != nil {
		s.metrics.rejected.WithLabelValues("invalid").Inc()
		return aerr
	}
	embs, _, aerr := s.embedTexts(w.(*statusWriter), r, req.texts, req.normalize, !req.truncate)
	if aerr != nil {
		return aerr
	}
	out := make([]floats, len(embs))
	for i, e := range embs {
		out[i] = floats(e.Float32)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) *apiError {
	if !s.Ready() {
		return errorf(http.StatusServiceUnavailable, "Unhealthy", "warming up: the model is loading or its warm-up batch has not run yet")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) *apiError {
	writeJSON(w, http.StatusOK, map[string]interface{}{
		"model_id":                s.cfg.ModelName,
		"model_type":              "embedding",
		"dimensions":              s.emb.Dim(),
		"backend":                 s.emb.Backend(),
		"max_input_length":        s.emb.MaxSeqLength(),
		"max_batch_tokens":        s.cfg.MaxBatchTokens,
		"max_batch_requests":      s.cfg.MaxBatchRequests,
		"max_concurrent_requests": s.cfg.MaxConcurrentRequests,
		"max_client_batch_size":   s.cfg.MaxInputs,
		"max_body_bytes":          s.cfg.MaxBodyBytes,
		"max_wait_ms":             float64(s.cfg.MaxWait.Microseconds()) / 1000,
		"ready":                   s.Ready(),
	})
	return nil
}

// floats marshals float32 values in their shortest exact form (encoding/json would widen
// them to float64 digits).
type floats []float32

func (f floats) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(f)*12)
	b = append(b, '[')
	for i, x := range f {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("non-finite value at %d", i)
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return append(b, ']'), nil
}

// base64Floats is OpenAI's base64 encoding: the little-endian float32 bytes, base64.
func base64Floats(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}
