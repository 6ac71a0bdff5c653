// Command rag is the RAGMiniLMBenchmarks on BEIR SciFact: embed the corpus, build an exact
// cosine index, retrieve for every test query, and score nDCG@10, recall@10 and
// recall@100 against the test qrels and the published all-MiniLM-L6-v2 figures; with ingest
// throughput, index build time, query latency (embed + search), single-text latency,
// batch-32 throughput and cold start, for our engines and the peers.
//
//	bazel run //go/bench:rag -- --out /tmp/rag
//	go run ./go/bench/cmd/rag --model-dir DIR --out /tmp/rag [--quick]
//
// The full run exits non-zero when nDCG@10 of one of our engines is more than --gate
// (0.005) away from the published 0.64508; --quick runs a subset and applies no gate.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/bench/index"
	"github.com/minilm-coreml/minilm/go/bench/internal/benchdata"
	"github.com/minilm-coreml/minilm/go/bench/internal/cli"
	"github.com/minilm-coreml/minilm/go/bench/internal/engines"
	"github.com/minilm-coreml/minilm/go/bench/internal/measure"
	"github.com/minilm-coreml/minilm/go/bench/internal/peers"
	"github.com/minilm-coreml/minilm/go/bench/internal/report"
	"github.com/minilm-coreml/minilm/go/bench/metrics"
	"github.com/minilm-coreml/minilm/go/embed"
)

const (
	batchSize  = 32
	retrieveK  = 100 // depth of the ranking scored (recall@100)
	latencyK   = 10  // what a RAG application retrieves per query
	dim        = embed.Dim
	childFlag  = "cold-start-child"
	childReady = "FIRST_VECTOR "
)

type options struct {
	cli.Common
	gate           float64
	quickQueries   int
	quickDocs      int
	latencyQueries int
	batch32Texts   int
	coldRuns       int
	peerTimeout    time.Duration
	child          string
	precisions     string
	precs          []cpu.Precision
}

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rag:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run() (int, error) {
	var o options
	fs := flag.NewFlagSet("rag", flag.ExitOnError)
	o.Register(fs)
	fs.Float64Var(&o.gate, "gate", 0.005, "largest allowed |nDCG@10 - published| in the full run")
	fs.IntVar(&o.quickQueries, "quick-queries", 20, "queries of the --quick subset")
	fs.IntVar(&o.quickDocs, "quick-docs", 120, "documents of the --quick subset (the judged ones plus distractors)")
	fs.IntVar(&o.latencyQueries, "latency-queries", 0, "queries timed one at a time for query and single-text latency (0: all)")
	fs.IntVar(&o.batch32Texts, "batch32-texts", 512, "corpus texts embedded in calls of 32 for the batch-32 throughput; --quick: 32")
	fs.IntVar(&o.coldRuns, "cold-runs", 3, "cold-start runs (each a fresh process); --quick: 1")
	fs.DurationVar(&o.peerTimeout, "peer-timeout", 60*time.Minute, "time limit of each peer process")
	fs.StringVar(&o.child, childFlag, "", "internal: run as a cold-start child for this engine and exit")
	fs.StringVar(&o.precisions, "precisions", "float32", "compute precisions of the cpu engine, one engine each (float32,bf16,int8; the nDCG@10 gate applies to float32 only)")
	// hugot's pure-Go backend embeds long texts at well under 1 text/s on 2 cores: the full
	// SciFact corpus would take hours, so it is a peer here only on request.
	if f := fs.Lookup("peers"); f != nil {
		f.DefValue = "sentence-transformers,onnxruntime"
		_ = f.Value.Set(f.DefValue)
		f.Usage += " (hugot only on request: its pure-Go backend would take hours on the full corpus)"
	}
	_ = fs.Parse(os.Args[1:])
	precs, err := engines.ParsePrecisions(o.precisions)
	if err != nil {
		return 2, fmt.Errorf("--precisions: %v", err)
	}
	o.precs = precs
	if o.child != "" {
		return 0, coldStartChild(&o)
	}
	if err := o.Setup(); err != nil {
		return 2, err
	}
	if o.Quick {
		if !flagSet(fs, "batch32-texts") {
			o.batch32Texts = 32
		}
		if !flagSet(fs, "cold-runs") {
			o.coldRuns = 1
		}
	}
	dataDir, err := benchdata.DataDir(o.DataDir, benchdata.CorpusFile, benchdata.QueriesFile, benchdata.QrelsFile)
	if err != nil {
		return 2, err
	}
	sf, err := benchdata.LoadSciFact(dataDir)
	if err != nil {
		return 2, err
	}
	if o.Quick {
		sf = sf.Subset(o.quickQueries, o.quickDocs)
	}
	passages := sf.Passages()
	queries := make([]string, len(sf.Queries))
	for i, q := range sf.Queries {
		queries[i] = q.Text
	}
	latQueries := queries
	if o.latencyQueries > 0 && o.latencyQueries < len(queries) {
		latQueries = queries[:o.latencyQueries]
	}
	b32 := passages
	if o.batch32Texts > 0 && o.batch32Texts < len(b32) {
		b32 = b32[:o.batch32Texts]
	}

	started := time.Now()
	ctx := context.Background()
	rep := &report.RAGReport{
		Benchmark: "RAGMiniLMBenchmarks",
		Started:   started,
		Machine:   measure.DescribeMachine(),
		Published: report.Published,
		Config: report.RAGConfig{
			Threads: o.Threads, MaxSeqLength: o.MaxSeqLength, BatchSize: batchSize, Quick: o.Quick,
			Gate: o.gate, GateApplied: !o.Quick, Queries: len(queries), Docs: len(passages),
			ModelDir: o.ModelDir, DataDir: dataDir, Command: os.Args,
		},
		Versions: map[string]map[string]interface{}{},
	}
	list, err := engines.List(engines.Config{ModelDir: o.ModelDir, Threads: o.Threads, CoreMLModel: o.CoreMLModel, ComputeUnits: o.ComputeUnitList(), Precisions: o.precs})
	if err != nil {
		return 2, err
	}
	gated := map[string]bool{}
	for _, e := range list {
		if e.Skip == "" && e.NoBaseline {
			if be, err := e.Open(); err != nil {
				e.Skip = err.Error() // a precision the backend cannot build here
			} else {
				be.Close()
			}
		}
		gated[e.Name] = e.Precision == cpu.Float32
		if e.Skip != "" {
			rep.NotRun = append(rep.NotRun, report.NotRun{Engine: e.Name, Reason: e.Skip})
			continue
		}
		res, err := runOurs(ctx, &o, e, sf, passages, queries, latQueries, b32)
		if err != nil {
			return 1, fmt.Errorf("%s: %w", e.Name, err)
		}
		rep.Engines = append(rep.Engines, *res)
	}
	if err := runPeers(ctx, &o, rep, sf, passages, queries, latQueries, b32); err != nil {
		return 1, err
	}
	rep.Notes = append(rep.Notes,
		"nDCG@10 and recall@k follow pytrec_eval (as BEIR and MTEB): gain = relevance, averaged over the test queries; ties in score are broken by corpus order.",
		fmt.Sprintf("Query latency: one query at a time, embed it and search the top %d of the exact index (peers: their single-text embedding time plus our search of their vector). Single-text latency: the embedding call alone.", latencyK),
		"Ingest: the whole corpus in one call with batch size 32 (ours: Embedder.Embed, which sorts by token length; sentence-transformers: encode, which sorts by text length; ONNX Runtime peer: sorted by text length, padded per batch).",
		"Cold start: from exec of a fresh process to its first vector (model load, tokenizer, first inference); ours re-executes this binary with --cold-start-child, the peers report it from the exec time the benchmark passes them. Median of the runs.",
		fmt.Sprintf("Batch-32 throughput: the first %d corpus texts in calls of 32.", len(b32)),
		"The nDCG@10 gate applies to our float32 engines; the bf16 and int8 engines (--precisions) are scored and reported, not gated.")
	for _, e := range rep.Engines {
		if e.Ours && gated[e.Engine] && rep.Config.GateApplied && math.Abs(e.DeltaNDCG10) > o.gate {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s nDCG@10 %.5f differs from the published %.5f by %+.5f", e.Engine, e.NDCG10, report.Published.NDCG10, e.DeltaNDCG10))
		}
	}
	rep.Seconds = time.Since(started).Seconds()
	if err := rep.Write(o.Out); err != nil {
		return 1, err
	}
	fmt.Printf("wrote %s\n", filepath.Join(o.Out, "report.md"))
	for _, e := range rep.Engines {
		fmt.Printf("%-34s nDCG@10 %.5f (published %.5f, %+.5f)  recall@10 %.5f  recall@100 %.5f  ingest %.1f texts/s\n",
			e.Engine, e.NDCG10, report.Published.NDCG10, e.DeltaNDCG10, e.Recall10, e.Recall100, e.IngestTextsPerSec)
	}
	if len(rep.Failures) > 0 {
		return 3, fmt.Errorf("nDCG@10 gate failed: %v", rep.Failures)
	}
	return 0, nil
}

func runOurs(ctx context.Context, o *options, e engines.Engine, sf *benchdata.SciFact, passages, queries, latQueries, b32 []string) (*report.RAGEngine, error) {
	res := &report.RAGEngine{Engine: e.Name, Ours: true}
	emb, err := engines.NewEmbedder(e, o.ModelDir, batchSize, o.MaxSeqLength)
	if err != nil {
		return nil, err
	}
	defer emb.Close()
	// Warm-up: one batch of each kind of text.
	if _, err := emb.Embed(ctx, passages[:minInt(batchSize, len(passages))]); err != nil {
		return nil, err
	}
	if _, err := emb.Embed(ctx, queries[:1]); err != nil {
		return nil, err
	}

	fmt.Fprintf(os.Stderr, "%s: ingest %d documents...\n", e.Name, len(passages))
	s := measure.StartSampler(10 * time.Millisecond)
	start := time.Now()
	docVecs, err := emb.Embed(ctx, passages)
	if err != nil {
		return nil, err
	}
	res.IngestSeconds = time.Since(start).Seconds()
	peak := s.Stop()
	res.IngestTexts = len(passages)
	res.IngestTextsPerSec = float64(len(passages)) / res.IngestSeconds
	res.VmHWM = measure.PeakRSS()
	res.PeakHeapSys = peak.HeapSys

	idx, buildMs, err := buildIndex(sf, docVecs)
	if err != nil {
		return nil, err
	}
	res.IndexBuildMs = buildMs

	qVecs, err := emb.Embed(ctx, queries)
	if err != nil {
		return nil, err
	}
	res.Quality, res.SearchAllMs, err = evaluate(idx, sf, qVecs, o.Threads)
	if err != nil {
		return nil, err
	}
	if res.Quantized, err = quantizedQuality(sf, docVecs, qVecs, res.Quality); err != nil {
		return nil, fmt.Errorf("quantized retrieval: %w", err)
	}
	res.DeltaNDCG10 = res.NDCG10 - report.Published.NDCG10

	fmt.Fprintf(os.Stderr, "%s: query latency over %d queries...\n", e.Name, len(latQueries))
	var qms, sms []float64
	for _, q := range latQueries {
		t0 := time.Now()
		v, err := emb.Embed(ctx, []string{q})
		if err != nil {
			return nil, err
		}
		t1 := time.Now()
		if _, err := idx.Search(v[0], latencyK); err != nil {
			return nil, err
		}
		t2 := time.Now()
		sms = append(sms, ms(t1.Sub(t0)))
		qms = append(qms, ms(t2.Sub(t0)))
	}
	res.Query, res.Single = report.LatencyOf(qms), report.LatencyOf(sms)

	fmt.Fprintf(os.Stderr, "%s: batch-32 throughput over %d texts...\n", e.Name, len(b32))
	start = time.Now()
	if _, _, err := engines.Chunked(ctx, emb, b32, 32); err != nil {
		return nil, err
	}
	res.Batch32TextsPerSec = float64(len(b32)) / time.Since(start).Seconds()

	fmt.Fprintf(os.Stderr, "%s: cold start x%d...\n", e.Name, o.coldRuns)
	for i := 0; i < o.coldRuns; i++ {
		d, err := coldStart(ctx, o, e.Name)
		if err != nil {
			return nil, fmt.Errorf("cold start: %w", err)
		}
		res.ColdStartAll = append(res.ColdStartAll, d)
	}
	res.ColdStartMs = measure.Percentile(res.ColdStartAll, 50)
	return res, nil
}

func buildIndex(sf *benchdata.SciFact, docVecs [][]float32) (*index.Flat, float64, error) {
	start := time.Now()
	idx := index.New(dim, len(docVecs))
	for i, v := range docVecs {
		if err := idx.Add(sf.Corpus[i].ID, v); err != nil {
			return nil, 0, err
		}
	}
	return idx, ms(time.Since(start)), nil
}

// evaluate retrieves the top retrieveK documents for every query (parallel over queries)
// and scores the run.
func evaluate(idx *index.Flat, sf *benchdata.SciFact, qVecs [][]float32, threads int) (report.Quality, float64, error) {
	start := time.Now()
	hits, err := idx.SearchBatch(qVecs, retrieveK, threads)
	if err != nil {
		return report.Quality{}, 0, err
	}
	searchMs := ms(time.Since(start))
	run := map[string][]string{}
	for i, q := range sf.Queries {
		ids := make([]string, len(hits[i]))
		for j, h := range hits[i] {
			ids[j] = h.ID
		}
		run[q.ID] = ids
	}
	s := metrics.Evaluate(run, sf.Qrels, []int{10, 100})
	return report.Quality{NDCG10: s.NDCG[10], Recall10: s.Recall[10], Recall100: s.Recall[100]}, searchMs, nil
}

// coldStart re-executes this binary as a child that loads the engine, embeds one text and
// prints a line; it returns the milliseconds from exec to that line.
func coldStart(ctx context.Context, o *options, engine string) (float64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, exe, "--"+childFlag, engine, "--model-dir", o.ModelDir,
		"--threads", fmt.Sprint(o.Threads), "--max-seq-length", fmt.Sprint(o.MaxSeqLength),
		"--coreml-model", o.CoreMLModel, "--precisions", o.precisions, "--out", o.Out)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(out)
	var elapsed time.Duration
	got := false
	for sc.Scan() {
		if len(sc.Text()) >= len(childReady) && sc.Text()[:len(childReady)] == childReady {
			elapsed = time.Since(start)
			got = true
			break
		}
	}
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		return 0, err
	}
	if !got {
		return 0, fmt.Errorf("child printed no vector")
	}
	return ms(elapsed), nil
}

func coldStartChild(o *options) error {
	// No Setup here: nothing but what a fresh application does before its first vector.
	list, err := engines.List(engines.Config{ModelDir: o.ModelDir, Threads: o.Threads, CoreMLModel: o.CoreMLModel, ComputeUnits: o.ComputeUnitList(), Precisions: o.precs})
	if err != nil {
		return err
	}
	for _, e := range list {
		if e.Name != o.child {
			continue
		}
		if e.Skip != "" {
			return fmt.Errorf("%s: %s", e.Name, e.Skip)
		}
		emb, err := engines.NewEmbedder(e, o.ModelDir, batchSize, o.MaxSeqLength)
		if err != nil {
			return err
		}
		v, err := emb.Embed(context.Background(), []string{"What is the capital of France?"})
		if err != nil {
			return err
		}
		fmt.Printf("%s%d\n", childReady, len(v[0]))
		return emb.Close()
	}
	return fmt.Errorf("no engine %q", o.child)
}

func runPeers(ctx context.Context, o *options, rep *report.RAGReport, sf *benchdata.SciFact, passages, queries, latQueries, b32 []string) error {
	work := filepath.Join(o.Out, "peers")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	ps, err := o.BuildPeers(ctx, work)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	files := map[string][]string{"corpus": passages, "queries": queries, "latency": latQueries, "batch32": b32}
	paths := map[string]string{}
	for name, texts := range files {
		paths[name] = filepath.Join(work, "rag_"+name+".jsonl")
		if err := peers.WriteTexts(paths[name], texts); err != nil {
			return err
		}
	}
	corpusVecs := filepath.Join(work, "rag_corpus.f32")
	queryVecs := filepath.Join(work, "rag_queries.f32")
	latVecs := filepath.Join(work, "rag_latency.f32")
	spec := peers.Spec{ModelDir: o.ModelDir, Threads: o.Threads, MaxSeqLength: o.MaxSeqLength, Jobs: []peers.Job{
		{Name: "corpus", Mode: "bulk", TextsFile: paths["corpus"], BatchSizes: []int{batchSize}, WarmupCalls: 1, VectorsOut: corpusVecs},
		{Name: "queries", Mode: "bulk", TextsFile: paths["queries"], BatchSizes: []int{batchSize}, WarmupCalls: 0, VectorsOut: queryVecs},
		{Name: "latency", Mode: "single", TextsFile: paths["latency"], WarmupCalls: 1, VectorsOut: latVecs},
		{Name: "batch32", Mode: "chunked", TextsFile: paths["batch32"], BatchSizes: []int{32}, WarmupCalls: 1},
	}}
	for _, p := range ps {
		fmt.Fprintf(os.Stderr, "peer %s...\n", p.Name)
		res, err := peers.Exec(ctx, p, spec, work, o.peerTimeout)
		if err == nil {
			var e *report.RAGEngine
			e, err = peerEngine(res, sf, len(passages), len(queries), len(latQueries), corpusVecs, queryVecs, latVecs, o.Threads)
			if err == nil {
				rep.Engines = append(rep.Engines, *e)
				rep.Versions[res.Engine] = res.Versions
				continue
			}
			err = &peers.NotRunError{Peer: p.Name, Reason: err.Error()}
		}
		if o.RequirePeers {
			return err
		}
		fmt.Fprintln(os.Stderr, err)
		reason := err.Error()
		if nr, ok := err.(*peers.NotRunError); ok {
			reason = nr.Reason
		}
		rep.NotRun = append(rep.NotRun, report.NotRun{Engine: p.Name, Reason: reason})
	}
	return nil
}

func peerEngine(res *peers.Result, sf *benchdata.SciFact, nDocs, nQueries, nLat int, corpusVecs, queryVecs, latVecs string, threads int) (*report.RAGEngine, error) {
	e := &report.RAGEngine{Engine: res.Engine, ColdStartMs: res.FirstVectorSeconds * 1e3}
	if res.FirstVectorSeconds > 0 {
		e.ColdStartAll = []float64{e.ColdStartMs}
	}
	docs, err := peers.ReadVectors(corpusVecs, nDocs, dim)
	if err != nil {
		return nil, err
	}
	qs, err := peers.ReadVectors(queryVecs, nQueries, dim)
	if err != nil {
		return nil, err
	}
	lat, err := peers.ReadVectors(latVecs, nLat, dim)
	if err != nil {
		return nil, err
	}
	idx, buildMs, err := buildIndex(sf, docs)
	if err != nil {
		return nil, err
	}
	e.IndexBuildMs = buildMs
	e.Quality, e.SearchAllMs, err = evaluate(idx, sf, qs, threads)
	if err != nil {
		return nil, err
	}
	e.DeltaNDCG10 = e.NDCG10 - report.Published.NDCG10
	if j := res.Job("corpus"); j != nil && len(j.Runs) == 1 {
		e.IngestTexts, e.IngestSeconds, e.VmHWM = j.Runs[0].Texts, j.Runs[0].Seconds, j.Runs[0].VmHWM
		e.IngestTextsPerSec = float64(e.IngestTexts) / e.IngestSeconds
	}
	if j := res.Job("latency"); j != nil && len(j.Runs) == 1 {
		single := j.Runs[0].CallMs
		e.Single = report.LatencyOf(single)
		q := make([]float64, len(single))
		for i, v := range lat {
			t0 := time.Now()
			if _, err := idx.Search(v, latencyK); err != nil {
				return nil, err
			}
			q[i] = single[i] + ms(time.Since(t0))
		}
		e.Query = report.LatencyOf(q)
	}
	if j := res.Job("batch32"); j != nil && len(j.Runs) == 1 && j.Runs[0].Seconds > 0 {
		e.Batch32TextsPerSec = float64(j.Runs[0].Texts) / j.Runs[0].Seconds
	}
	return e, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}
