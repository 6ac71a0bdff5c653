package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/minilm-coreml/minilm/go/serve"
)

type serveOptions struct {
	model       modelFlags
	addr        string
	cfg         serve.Config
	apiKey      string
	drain       time.Duration
	debug       bool
	modelName   string
	maxBodySize int64
}

const serveUsage = `Usage: minilm serve [flags]

Serves embeddings over HTTP, batching concurrent requests together:

  POST /v1/embeddings   OpenAI-compatible: {"input": "text" or ["a", "b"], "encoding_format": "float"|"base64"}
  POST /embed           text-embeddings-inference-compatible: {"inputs": ..., "normalize": true, "truncate": false}
  GET  /health          200 once the model is loaded and a warm-up batch ran, else 503
  GET  /info            model, backend, limits
  GET  /metrics         Prometheus metrics

Requests join one queue; batches form by a token budget (--max-batch-tokens, --max-batch-requests),
waiting at most --max-wait to fill. Past --max-concurrent-requests the server answers 429 at once.
SIGTERM or SIGINT drains: no new connections, admitted requests are answered, then exit 0.
The API key, if any, comes from $MINILM_API_KEY (or --api-key, visible to other users in ps).
One JSON log line per request goes to standard error.

Examples:
  minilm serve --addr 127.0.0.1:8080
  curl -s localhost:8080/v1/embeddings -H 'Content-Type: application/json' -d '{"input": ["hello", "world"]}'

Flags:
`

func serveFlags(e env) (*flag.FlagSet, *serveOptions) {
	o := &serveOptions{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.IntVar(&o.cfg.MaxBatchTokens, "max-batch-tokens", 16384, "token budget of one batch")
	fs.IntVar(&o.cfg.MaxBatchRequests, "max-batch-requests", 64, "most requests one batch joins")
	fs.DurationVar(&o.cfg.MaxWait, "max-wait", 5*time.Millisecond, "longest a batch waits to fill, under load only: the most delay batching adds")
	fs.IntVar(&o.cfg.MaxConcurrentRequests, "max-concurrent-requests", 512, "requests admitted at once; more are answered 429")
	fs.IntVar(&o.cfg.MaxInputs, "max-client-batch-size", 2048, "most texts in one request; more are answered 413")
	fs.Int64Var(&o.maxBodySize, "max-body-bytes", 8<<20, "largest request body; larger are answered 413")
	fs.StringVar(&o.apiKey, "api-key", "", "require \"Authorization: Bearer KEY\" (default $MINILM_API_KEY; none if both are empty)")
	fs.StringVar(&o.modelName, "model-name", "sentence-transformers/all-MiniLM-L6-v2", "model name reported in responses")
	fs.DurationVar(&o.drain, "drain-timeout", 30*time.Second, "on SIGTERM, how long admitted requests may take to finish (0: no limit)")
	fs.DurationVar(&o.cfg.ReadTimeout, "read-timeout", 60*time.Second, "limit for reading a request")
	fs.DurationVar(&o.cfg.WriteTimeout, "write-timeout", 120*time.Second, "limit for answering a request")
	fs.BoolVar(&o.debug, "debug", false, "also log one JSON line per batch run (requests, texts, tokens, queue wait, inference time)")
	o.model.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serveUsage)
		printFlags(fs)
	}
	return fs, o
}

func runServe(ctx context.Context, args []string, e env) error {
	fs, o := serveFlags(e)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{msg: "serve: unexpected arguments: " + strings.Join(pos, " "), usage: usageOf(fs)}
	}
	for name, v := range map[string]int{"--max-batch-tokens": o.cfg.MaxBatchTokens, "--max-batch-requests": o.cfg.MaxBatchRequests,
		"--max-concurrent-requests": o.cfg.MaxConcurrentRequests, "--max-client-batch-size": o.cfg.MaxInputs} {
		if v < 1 {
			return usageError{msg: fmt.Sprintf("serve: %s %d: must be at least 1", name, v)}
		}
	}
	if o.cfg.MaxWait < 0 || o.maxBodySize < 1 || o.drain < 0 || o.cfg.ReadTimeout <= 0 || o.cfg.WriteTimeout <= 0 {
		return usageError{msg: "serve: --max-wait, --max-body-bytes, --drain-timeout, --read-timeout and --write-timeout must be positive"}
	}
	if err := o.model.validate(); err != nil {
		return err
	}
	o.cfg.MaxBodyBytes = o.maxBodySize
	o.cfg.ModelName = o.modelName
	o.cfg.APIKey = o.apiKey
	if o.cfg.APIKey == "" {
		o.cfg.APIKey = e.getenv("MINILM_API_KEY")
	}
	level := slog.LevelInfo
	if o.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	o.cfg.Logger = log

	// Listen before loading the model, so a taken port fails at once.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer ln.Close()
	emb, err := o.model.open(e)
	if err != nil {
		return err
	}
	defer emb.Close()
	srv, err := serve.New(emb, o.cfg)
	if err != nil {
		return err
	}
	log.Info("listening", "url", "http://"+ln.Addr().String(), "backend", emb.Backend(), "auth", o.cfg.APIKey != "")
	return srv.Serve(ctx, ln, o.drain)
}
