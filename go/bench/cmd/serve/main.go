// Command serve is the ServeBenchmark: `minilm serve`'s throughput and latency under 1, 16
// and 64 concurrent clients each sending single texts (short STS-B sentences), against the
// library's offline batch throughput on the same texts and, when it can run here,
// infinity-emb (PyPI) serving the same model directory with the same threads, all in one
// run. It writes results.json and report.md to --out.
//
//	bazel run //go/bench:serve -- --out /tmp/serve [--python /path/to/venv-with-infinity-emb/bin/python]
//
// The server runs in this process on a loopback port; clients are Go HTTP clients with
// keep-alive connections. A request counts from the client's send to the end of its
// response body. --quick is the smoke form CI runs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minilm-coreml/minilm/go/bench/internal/benchdata"
	"github.com/minilm-coreml/minilm/go/bench/internal/measure"
	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/serve"
)

// Level is one concurrency level's result for one server.
type Level struct {
	Server    string  `json:"server"`
	Clients   int     `json:"clients"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	TextsPerS float64 `json:"texts_per_sec"`
	P50Ms     float64 `json:"latency_p50_ms"`
	P99Ms     float64 `json:"latency_p99_ms"`
	OfOffline float64 `json:"fraction_of_offline"`
	MeanBatch float64 `json:"mean_requests_per_batch,omitempty"`
}

// Report is results.json.
type Report struct {
	Benchmark      string          `json:"benchmark"`
	Started        time.Time       `json:"started"`
	Machine        measure.Machine `json:"machine"`
	Threads        int             `json:"threads"`
	Quick          bool            `json:"quick"`
	Texts          int             `json:"texts"`
	OfflineTextsPS float64         `json:"offline_texts_per_sec"`
	Levels         []Level         `json:"levels"`
	NotRun         []string        `json:"not_run"`
	Notes          []string        `json:"notes"`
}

type options struct {
	out, modelDir, dataDir, python, peers string
	quick                                 bool
	threads, requests                     int
	maxWait                               time.Duration
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "serve benchmark:", err)
		os.Exit(1)
	}
}

func run() error {
	var o options
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	fs.StringVar(&o.out, "out", "", "directory for results.json and report.md (required)")
	fs.StringVar(&o.modelDir, "model-dir", "", "model directory; default $MINILM_MODEL_DIR, then the runfiles path models/minilm_weights")
	fs.StringVar(&o.dataDir, "data-dir", "", "evaluation data (stsb-test.tsv); default $MINILM_DATA_DIR, then ../shared/data next to the repository")
	fs.BoolVar(&o.quick, "quick", false, "few requests: a smoke test")
	fs.IntVar(&o.threads, "threads", runtime.NumCPU(), "threads for every engine (GOMAXPROCS here; OMP/torch threads for infinity)")
	fs.IntVar(&o.requests, "requests", 1024, "requests per concurrency level (--quick: 64)")
	fs.DurationVar(&o.maxWait, "max-wait", 5*time.Millisecond, "the server's --max-wait")
	fs.StringVar(&o.python, "python", "python3", "interpreter with infinity-emb[server,torch] installed, for the infinity peer")
	fs.StringVar(&o.peers, "peers", "infinity", "peers to run: infinity or none")
	_ = fs.Parse(os.Args[1:])
	if o.out == "" {
		return errors.New("--out DIR is required")
	}
	if o.quick && !flagSet(fs, "requests") {
		o.requests = 64
	}
	runtime.GOMAXPROCS(o.threads)
	var err error
	if o.modelDir, err = benchdata.ModelDir(o.modelDir); err != nil {
		return err
	}
	if o.dataDir, err = benchdata.DataDir(o.dataDir, "stsb-test.tsv"); err != nil {
		return err
	}
	texts, err := benchdata.STSBSentences(o.dataDir)
	if err != nil {
		return err
	}
	if len(texts) > o.requests {
		texts = texts[:o.requests]
	}
	rep := &Report{Benchmark: "ServeBenchmark", Started: time.Now(), Machine: measure.DescribeMachine(), Threads: o.threads, Quick: o.quick, Texts: len(texts)}

	emb, err := embed.New(embed.WithModelDir(o.modelDir), embed.WithBackend(embed.CPU))
	if err != nil {
		return err
	}
	defer emb.Close()
	ctx := context.Background()
	if _, err := emb.Embed(ctx, texts[:8]); err != nil { // warm-up
		return err
	}
	start := time.Now()
	if _, err := emb.Embed(ctx, texts); err != nil {
		return err
	}
	rep.OfflineTextsPS = float64(len(texts)) / time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "offline Embed: %.1f texts/s over %d texts\n", rep.OfflineTextsPS, len(texts))

	// Ours, in process.
	srv, err := serve.New(emb, serve.Config{MaxWait: o.maxWait})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln, 0) }()
	url := "http://" + ln.Addr().String()
	if err := waitHealthy(url+"/health", 60*time.Second); err != nil {
		return err
	}
	for _, clients := range []int{1, 16, 64} {
		before := batches(url)
		l := load("minilm serve", url+"/v1/embeddings", texts, clients, o.requests)
		after := batches(url)
		if after[0] > before[0] {
			l.MeanBatch = (after[1] - before[1]) / (after[0] - before[0])
		}
		l.OfOffline = l.TextsPerS / rep.OfflineTextsPS
		rep.Levels = append(rep.Levels, l)
		fmt.Fprintf(os.Stderr, "%s, %d clients: %.1f texts/s (%.0f%% of offline), p50 %.1f ms, p99 %.1f ms, %.1f requests per batch\n",
			l.Server, clients, l.TextsPerS, 100*l.OfOffline, l.P50Ms, l.P99Ms, l.MeanBatch)
	}
	stop()
	if err := <-served; err != nil {
		return err
	}

	if o.peers == "infinity" {
		levels, reason := runInfinity(ctx, &o, texts, rep.OfflineTextsPS, &rep.Notes)
		if reason != "" {
			rep.NotRun = append(rep.NotRun, "infinity-emb: "+reason)
			fmt.Fprintln(os.Stderr, "infinity-emb not run:", reason)
		}
		rep.Levels = append(rep.Levels, levels...)
	}
	rep.Notes = append(rep.Notes,
		"Each client sends one STS-B sentence per request, back to back, over a keep-alive connection; latency is from send to the end of the response body.",
		"fraction_of_offline: server texts/s over the library's offline Embed of the same texts in one call, same process, same threads (the issue's goal: >= 0.8 at 64 clients).",
	)
	return write(o.out, rep)
}

// load runs clients goroutines that together send requests single-text requests.
func load(name, url string, texts []string, clients, requests int) Level {
	var next, errs int64
	lat := make([]float64, requests)
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 120 * time.Second}
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1) - 1)
				if i >= requests {
					return
				}
				body, _ := json.Marshal(map[string]interface{}{"input": texts[i%len(texts)], "model": "all-MiniLM-L6-v2"})
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				lat[i] = float64(time.Since(t0).Microseconds()) / 1000
				if err != nil {
					atomic.AddInt64(&errs, 1)
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return Level{Server: name, Clients: clients, Requests: requests, Errors: int(errs), Seconds: secs,
		TextsPerS: float64(requests) / secs, P50Ms: measure.Percentile(lat, 50), P99Ms: measure.Percentile(lat, 99)}
}

// batches reads minilm_batch_requests_count and _sum from /metrics.
func batches(base string) [2]float64 {
	var out [2]float64
	resp, err := http.Get(strings.TrimSuffix(base, "/v1/embeddings") + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		var v float64
		if n, _ := fmt.Sscanf(line, "minilm_batch_requests_count %g", &v); n == 1 {
			out[0] = v
		}
		if n, _ := fmt.Sscanf(line, "minilm_batch_requests_sum %g", &v); n == 1 {
			out[1] = v
		}
	}
	return out
}

func waitHealthy(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not healthy within %v", url, limit)
}

// runInfinity serves the same model directory with infinity-emb (`infinity_emb v2`, its
// OpenAI-compatible /embeddings route) and loads it the same way. It returns why it could
// not run, if it could not.
func runInfinity(ctx context.Context, o *options, texts []string, offline float64, notes *[]string) ([]Level, string) {
	ver, err := exec.Command(o.python, "-c", "import infinity_emb, torch; print(infinity_emb.__version__, torch.__version__)").CombinedOutput()
	if err != nil {
		return nil, fmt.Sprintf("%s cannot import infinity_emb (pip install 'infinity-emb[server,torch]'): %s", o.python, lastLine(string(ver)))
	}
	if v := strings.Fields(string(ver)); len(v) == 2 {
		*notes = append(*notes, fmt.Sprintf("infinity-emb %s on torch %s: `infinity_emb v2 --engine torch --device cpu --batch-size 32` serving the same model directory, OMP/MKL threads %d; its OpenAI-compatible /embeddings route.", v[0], v[1], o.threads))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err.Error()
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	bin := filepath.Join(filepath.Dir(o.python), "infinity_emb")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, "v2", "--model-id", o.modelDir, "--port", fmt.Sprint(port), "--host", "127.0.0.1",
		"--engine", "torch", "--device", "cpu", "--no-bettertransformer", "--batch-size", "32")
	threads := fmt.Sprint(o.threads)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+threads, "MKL_NUM_THREADS="+threads, "INFINITY_ANONYMOUS_USAGE_STATS=0",
		"HF_HUB_OFFLINE=1", "DO_NOT_TRACK=1")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, err.Error()
	}
	defer func() { cancel(); cmd.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHealthy(base+"/health", 5*time.Minute); err != nil {
		return nil, fmt.Sprintf("did not become healthy: %v; log: %s", err, lastLine(logs.String()))
	}
	// Warm-up.
	load("infinity-emb", base+"/embeddings", texts, 4, 32)
	var out []Level
	for _, clients := range []int{1, 16, 64} {
		l := load("infinity-emb", base+"/embeddings", texts, clients, o.requests)
		l.OfOffline = l.TextsPerS / offline
		out = append(out, l)
		fmt.Fprintf(os.Stderr, "%s, %d clients: %.1f texts/s, p50 %.1f ms, p99 %.1f ms, %d errors\n", l.Server, clients, l.TextsPerS, l.P50Ms, l.P99Ms, l.Errors)
	}
	return out, ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func write(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	m := r.Machine
	fmt.Fprintf(&md, "# ServeBenchmark\n\n%s. Machine: %s, %d CPUs, %d threads for every engine, %s. quick=%v.\n\n",
		r.Started.Format("2006-01-02 15:04 MST"), m.CPU, m.NumCPU, r.Threads, m.GoVersion, r.Quick)
	fmt.Fprintf(&md, "Offline `Embed` of the same %d texts in one call: **%.1f texts/s**.\n\n", r.Texts, r.OfflineTextsPS)
	md.WriteString("| server | clients | requests | errors | texts/s | of offline | p50 ms | p99 ms | requests/batch |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	sort.SliceStable(r.Levels, func(i, j int) bool { return r.Levels[i].Clients < r.Levels[j].Clients })
	for _, l := range r.Levels {
		mb := "–"
		if l.MeanBatch > 0 {
			mb = fmt.Sprintf("%.1f", l.MeanBatch)
		}
		fmt.Fprintf(&md, "| %s | %d | %d | %d | %.1f | %.0f%% | %.1f | %.1f | %s |\n", l.Server, l.Clients, l.Requests, l.Errors, l.TextsPerS, 100*l.OfOffline, l.P50Ms, l.P99Ms, mb)
	}
	if len(r.NotRun) > 0 {
		md.WriteString("\n## Not run\n\n")
		for _, n := range r.NotRun {
			fmt.Fprintf(&md, "- %s\n", n)
		}
	}
	md.WriteString("\n## Notes\n\n")
	for _, n := range r.Notes {
		fmt.Fprintf(&md, "- %s\n", n)
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(md.String()), 0o644)
}
