// Command batch_embedding is the BatchEmbeddingBenchmark of the conversion guide, on real
// texts: how much faster the batched, length-bucketed embedding path is than the serial
// path the guide started from (one text per call, padded to the fixed shape (1, 512)), on
// the same backend, and how it compares with peer engines on the same texts and threads.
//
//	bazel run //go/bench:batch_embedding -- --out /tmp/bench
//	go run ./go/bench/cmd/batch_embedding --model-dir DIR --out /tmp/bench [--quick]
//
// It writes results.json, report.md, throughput.png and speedup.png into --out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/bench/internal/benchdata"
	"github.com/minilm-coreml/minilm/go/bench/internal/cli"
	"github.com/minilm-coreml/minilm/go/bench/internal/engines"
	"github.com/minilm-coreml/minilm/go/bench/internal/measure"
	"github.com/minilm-coreml/minilm/go/bench/internal/peers"
	"github.com/minilm-coreml/minilm/go/bench/internal/report"
	"github.com/minilm-coreml/minilm/go/internal/kernels"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
	"github.com/minilm-coreml/minilm/go/tokenizer"
	xcpu "golang.org/x/sys/cpu"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "batch_embedding:", err)
		os.Exit(1)
	}
}

type options struct {
	cli.Common
	batchSizes    string
	corpora       string
	texts         int
	baselineTexts int
	repeat        int
	peerTimeout   time.Duration
	precisions    string
	rounds        int
	quality       bool
	qualityTexts  int
	fixtures      string
}

func run() error {
	var o options
	fs := flag.NewFlagSet("batch_embedding", flag.ExitOnError)
	o.Register(fs)
	fs.StringVar(&o.batchSizes, "batch-sizes", "1,8,16,32,64", "batch sizes of the batched path (texts per call and per backend batch); --quick: 1,8")
	fs.StringVar(&o.corpora, "corpora", strings.Join(benchdata.CorpusOrder, ","), "corpora to run: short (STS-B sentences), mixed, long (SciFact abstracts)")
	fs.IntVar(&o.texts, "texts", 256, "texts per corpus (0: all); --quick: 16")
	fs.IntVar(&o.baselineTexts, "baseline-texts", 48, "texts of each corpus the slow serial baseline embeds (the first ones); --quick: 2")
	fs.IntVar(&o.repeat, "repeat", 1, "passes over each corpus per measurement")
	fs.DurationVar(&o.peerTimeout, "peer-timeout", 30*time.Minute, "time limit of each peer process")
	fs.StringVar(&o.precisions, "precisions", "float32,bf16,int8", "compute precisions of the cpu engine to run, one engine each (a precision this build or CPU cannot run is reported as not run)")
	fs.IntVar(&o.rounds, "rounds", 1, "measure every engine and peer this many times, in turn (round 1: all of them, then round 2, ...), and keep each one's fastest run: best of N on a shared machine")
	fs.BoolVar(&o.quality, "quality", true, "score every engine's vectors: cosine against sentence-transformers' on the parity corpus (testdata/fixtures) and the STS-B test Spearman")
	fs.IntVar(&o.qualityTexts, "quality-texts", 0, "parity-corpus texts the quality score embeds, spread over the corpus (0: all 1,357); --quick: 48")
	fs.StringVar(&o.fixtures, "fixtures", "", "directory of the parity corpus and its reference vectors (default testdata/fixtures in the runfiles or the repository)")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if err := o.Setup(); err != nil {
		return err
	}
	batchSizes, err := cli.Ints(o.batchSizes)
	if err != nil {
		return fmt.Errorf("--batch-sizes: %v", err)
	}
	if o.Quick {
		if !flagSet(fs, "texts") {
			o.texts = 16
		}
		if !flagSet(fs, "baseline-texts") {
			o.baselineTexts = 2
		}
		if !flagSet(fs, "batch-sizes") {
			batchSizes = []int{1, 8}
		}
		if !flagSet(fs, "quality-texts") {
			o.qualityTexts = 48
		}
	}
	precs, err := engines.ParsePrecisions(o.precisions)
	if err != nil {
		return fmt.Errorf("--precisions: %v", err)
	}
	if o.repeat < 1 {
		o.repeat = 1
	}
	dataDir, err := benchdata.DataDir(o.DataDir, benchdata.STSBFile, benchdata.CorpusFile)
	if err != nil {
		return err
	}
	ctx := context.Background()
	started := time.Now()

	all, err := benchdata.Corpora(dataDir, o.texts)
	if err != nil {
		return err
	}
	var names []string
	for _, n := range strings.Split(o.corpora, ",") {
		n = strings.TrimSpace(n)
		if _, ok := all[n]; !ok {
			return fmt.Errorf("--corpora: unknown corpus %q (want short, mixed, long)", n)
		}
		names = append(names, n)
	}
	tok, err := tokenizer.Load(o.ModelDir)
	if err != nil {
		return err
	}

	rep := &report.BatchReport{
		Benchmark: "BatchEmbeddingBenchmark",
		Started:   started,
		Machine:   measure.DescribeMachine(),
		Config: report.BatchConfig{
			Threads: o.Threads, MaxSeqLength: o.MaxSeqLength, BaselineShape: "(1,512)",
			BatchSizes: batchSizes, Repeat: o.repeat, Quick: o.Quick,
			ModelDir: o.ModelDir, DataDir: dataDir, Command: os.Args,
		},
		Versions: map[string]map[string]interface{}{},
	}
	sources := map[string]string{
		"short": "STS-B test sentences",
		"mixed": "STS-B sentences + SciFact passages, shuffled",
		"long":  "SciFact passages (title + abstract)",
	}
	for _, n := range names {
		c, err := corpusInfo(tok, n, sources[n], all[n], o.MaxSeqLength)
		if err != nil {
			return err
		}
		c.BaselineTexts = minInt(o.baselineTexts, len(all[n]))
		rep.Corpora = append(rep.Corpora, c)
	}

	var q *qualityData
	if o.quality {
		if q, err = loadQuality(&o, dataDir); err != nil {
			return err
		}
	}
	list, err := engines.List(engines.Config{ModelDir: o.ModelDir, Threads: o.Threads, CoreMLModel: o.CoreMLModel, ComputeUnits: o.ComputeUnitList(), Precisions: precs})
	if err != nil {
		return err
	}
	var runnable []engines.Engine
	for _, e := range list {
		if e.Skip == "" && e.NoBaseline {
			// A precision the backend cannot build here (kernels missing, CPU lacking the
			// instructions) is not run, with the backend's reason.
			if be, err := e.Open(); err != nil {
				e.Skip = err.Error()
			} else {
				be.Close()
			}
		}
		if e.Skip != "" {
			rep.NotRun = append(rep.NotRun, report.NotRun{Engine: e.Name, Reason: e.Skip})
			fmt.Fprintf(os.Stderr, "skip %s: %s\n", e.Name, e.Skip)
			continue
		}
		runnable = append(runnable, e)
		if strings.HasPrefix(e.Name, "cpu") {
			if isa := cpuISA(o.ModelDir, e.Precision); isa != "" {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s kernels: %s.", e.Name, isa))
			}
		}
	}
	work := filepath.Join(o.Out, "peers")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	ps, err := o.BuildPeers(ctx, work)
	if err != nil {
		return err
	}
	serial := map[string]map[string][][]float32{} // engine -> corpus -> baseline vectors
	for round := 1; round <= o.rounds; round++ {
		if o.rounds > 1 {
			fmt.Fprintf(os.Stderr, "round %d of %d (load %.2f)\n", round, o.rounds, measure.LoadAvg1())
		}
		for _, e := range runnable {
			if round == 1 {
				serial[e.Name] = map[string][][]float32{}
				if !e.NoBaseline {
					if err := runBaseline(ctx, &o, rep, e, tok, all, names, serial[e.Name]); err != nil {
						return fmt.Errorf("%s: %w", e.Name, err)
					}
				}
			}
			if err := runBatched(ctx, &o, rep, e, all, names, batchSizes, serial[e.Name]); err != nil {
				return fmt.Errorf("%s: %w", e.Name, err)
			}
			if round == 1 && q != nil {
				eq, err := q.scoreOurs(ctx, &o, e)
				if err != nil {
					return fmt.Errorf("%s quality: %w", e.Name, err)
				}
				rep.Quality = append(rep.Quality, eq)
			}
		}
		rq := q
		if round > 1 {
			rq = nil // the peers' vectors were scored in round 1
		}
		if err := runPeers(ctx, &o, rep, ps, work, all, names, batchSizes, rq, round == 1); err != nil {
			return err
		}
	}
	if o.rounds > 1 {
		rep.Runs = report.BestRuns(rep.Runs)
		rep.Notes = append(rep.Notes, fmt.Sprintf("Best of %d rounds: every engine and peer was measured once per round, in turn, and each keeps its fastest run (latency and memory figures are that run's).", o.rounds))
	}
	rep.Notes = append(rep.Notes,
		"The cpu backend skips padded positions when batching; its serial (1,512) baseline runs the cpu backend in its fixed-shape mode (a benchmark-only option), which computes all 512 positions (padded keys masked, vectors unchanged) as the fixed-shape model of the conversion guide did. On Core ML a fixed (1,512) shape computes every padded position anyway.",
		"Batched calls hand the engine b texts at a time (b = batch size) and time each call; the embedder sorts each call's texts by token length and pads each backend batch only to its longest text. Peers get the same calls: SentenceTransformer.encode(call, batch_size=b); ONNX Runtime pads each batch to its longest text.",
		"Peak memory: VmHWM is reset (/proc/self/clear_refs) before each run and read after it; it includes the loaded model. The Go figure in brackets is the peak HeapSys sampled every 10 ms.")

	rep.Seconds = time.Since(started).Seconds()
	rep.Finish("cpu")
	if err := rep.Write(o.Out); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", filepath.Join(o.Out, "report.md"))
	return nil
}

// runBaseline runs the serial (1, 512) path (one backend, one text per call, every position
// computed) of e on the first --baseline-texts texts of each
// corpus and keeps their vectors in serialVecs.
func runBaseline(ctx context.Context, o *options, rep *report.BatchReport, e engines.Engine, tok *tokenizer.Tokenizer, all map[string][]string, names []string, serialVecs map[string][][]float32) error {
	open := e.Open
	if e.OpenBaseline != nil {
		open = e.OpenBaseline
	}
	be, err := open()
	if err != nil {
		return err
	}
	for _, n := range names {
		texts := all[n][:minInt(o.baselineTexts, len(all[n]))]
		if _, _, err := engines.Serial(ctx, be, tok, texts[:1], o.MaxSeqLength, engines.BaselineShape); err != nil { // warm-up
			be.Close()
			return err
		}
		fmt.Fprintf(os.Stderr, "%s serial (1,512) on %d %s texts...\n", e.Name, len(texts), n)
		s := measure.StartSampler(10 * time.Millisecond)
		var lat []time.Duration
		start := time.Now()
		var vecs [][]float32
		for r := 0; r < o.repeat; r++ {
			v, l, err := engines.Serial(ctx, be, tok, texts, o.MaxSeqLength, engines.BaselineShape)
			if err != nil {
				be.Close()
				return err
			}
			vecs, lat = v, append(lat, l...)
		}
		secs := time.Since(start).Seconds()
		peak := s.Stop()
		serialVecs[n] = vecs
		run := newRun(e.Name, report.KindBaseline, n, 1, len(texts)*o.repeat, lat, secs, peak)
		run.Precision = e.Precision.String()
		rep.Runs = append(rep.Runs, run)
	}
	return be.Close()
}

// runBatched runs e's batched path at every batch size on every corpus; where serialVecs
// holds the baseline's vectors of a corpus, the batched vectors must match them.
func runBatched(ctx context.Context, o *options, rep *report.BatchReport, e engines.Engine, all map[string][]string, names []string, batchSizes []int, serialVecs map[string][][]float32) error {
	for _, b := range batchSizes {
		emb, err := engines.NewEmbedder(e, o.ModelDir, b, o.MaxSeqLength)
		if err != nil {
			return err
		}
		for _, n := range names {
			texts := all[n]
			if _, _, err := engines.Chunked(ctx, emb, texts[:minInt(b, len(texts))], b); err != nil { // warm-up
				emb.Close()
				return err
			}
			fmt.Fprintf(os.Stderr, "%s batched b=%d on %d %s texts...\n", e.Name, b, len(texts), n)
			s := measure.StartSampler(10 * time.Millisecond)
			var lat []time.Duration
			var vecs [][]float32
			start := time.Now()
			for r := 0; r < o.repeat; r++ {
				v, l, err := engines.Chunked(ctx, emb, texts, b)
				if err != nil {
					emb.Close()
					return err
				}
				vecs, lat = v, append(lat, l...)
			}
			secs := time.Since(start).Seconds()
			peak := s.Stop()
			run := newRun(e.Name, report.KindBatched, n, b, len(texts)*o.repeat, lat, secs, peak)
			run.Precision = e.Precision.String()
			rep.Runs = append(rep.Runs, run)
			if _, ok := serialVecs[n]; !ok {
				continue // no baseline of its own (bf16, int8): the quality table scores it
			}
			// The batched path must produce the serial path's vectors.
			minCos := 1.0
			for i, sv := range serialVecs[n] {
				if c := vecmath.Cosine(sv, vecs[i]); c < minCos {
					minCos = c
				}
			}
			if minCos < 0.999 {
				emb.Close()
				return fmt.Errorf("batched (b=%d) and serial vectors of %s disagree: min cosine %.6f", b, n, minCos)
			}
			for i := range rep.Corpora {
				if rep.Corpora[i].Name == n && (rep.Corpora[i].MinCosineBatchedVsSerial == 0 || minCos < rep.Corpora[i].MinCosineBatchedVsSerial) {
					rep.Corpora[i].MinCosineBatchedVsSerial = minCos
				}
			}
		}
		if err := emb.Close(); err != nil {
			return err
		}
	}
	return nil
}

// runPeers runs every peer once on the corpora (and on the quality texts when q is set);
// reportNotRun says whether a peer that fails goes under "Not run" (the first round).
func runPeers(ctx context.Context, o *options, rep *report.BatchReport, ps []peers.Peer, work string, all map[string][]string, names []string, batchSizes []int, q *qualityData, reportNotRun bool) error {
	if len(ps) == 0 {
		return nil
	}
	var ortFP32, ortInt8 string // the ONNX Runtime peers' engine names, once they ran
	defer func() { rep.Headline = headlinePairs(rep, ortFP32, ortInt8) }()
	for _, p := range ps {
		spec, err := peerSpec(o, p.MaxTexts, work, all, names, batchSizes)
		if err != nil {
			return err
		}
		if q != nil && p.MaxTexts == 0 { // the slow hugot peer is not scored
			jobs, err := q.peerJobs(work, fileTag(p.Name))
			if err != nil {
				return err
			}
			spec.Jobs = append(spec.Jobs, jobs...)
		}
		fmt.Fprintf(os.Stderr, "peer %s...\n", p.Name)
		res, err := peers.Exec(ctx, p, spec, work, o.peerTimeout)
		if err != nil {
			if o.RequirePeers {
				return err
			}
			fmt.Fprintln(os.Stderr, err)
			if reportNotRun {
				rep.NotRun = append(rep.NotRun, report.NotRun{Engine: p.Name, Reason: reasonOf(err)})
			}
			continue
		}
		name := res.Engine
		rep.Versions[name] = res.Versions
		switch p.Name {
		case "onnxruntime":
			ortFP32 = name
		case "onnxruntime-int8":
			ortInt8 = name
		}
		if q != nil && p.MaxTexts == 0 {
			eq, err := q.scorePeer(res, spec)
			if err != nil {
				return fmt.Errorf("%s quality: %w", name, err)
			}
			rep.Quality = append(rep.Quality, eq)
		}
		if p.MaxTexts > 0 && reportNotRun {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s is far slower than the other engines: it embedded only the first %d texts of each corpus, at batch sizes up to %d; its ratios compare texts/s on that sample with ours on the whole corpus.", name, p.MaxTexts, p.MaxTexts))
		}
		for _, job := range res.Jobs {
			if job.Mode != "chunked" {
				continue // the quality jobs
			}
			for _, r := range job.Runs {
				lat := make([]time.Duration, len(r.CallMs))
				for i, ms := range r.CallMs {
					lat[i] = time.Duration(ms * float64(time.Millisecond))
				}
				run := newRun(name, report.KindPeer, job.Name, r.BatchSize, r.Texts, lat, r.Seconds, measure.MemPeak{})
				run.VmHWM = r.VmHWM
				run.Precision = peerPrecision(res)
				rep.Runs = append(rep.Runs, run)
			}
		}
	}
	return nil
}

// headlinePairs lists the ratios the report's headline table shows: each of our precisions
// against the ONNX Runtime engine of the same precision (bf16, which ONNX Runtime's CPU
// provider does not offer as a quantization, against both), for the engines that ran.
func headlinePairs(rep *report.BatchReport, ortFP32, ortInt8 string) []report.Pair {
	ran := map[string]bool{}
	for _, r := range rep.Runs {
		ran[r.Engine] = true
	}
	var out []report.Pair
	for _, p := range []report.Pair{
		{Ours: engines.CPUName(cpu.Float32), Peer: ortFP32},
		{Ours: engines.CPUName(cpu.Int8), Peer: ortInt8},
		{Ours: engines.CPUName(cpu.BF16), Peer: ortFP32},
		{Ours: engines.CPUName(cpu.BF16), Peer: ortInt8},
	} {
		if p.Peer != "" && ran[p.Ours] && ran[p.Peer] {
			out = append(out, p)
		}
	}
	return out
}

// fileTag turns a peer name into a file-name fragment.
func fileTag(s string) string {
	return strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

// peerSpec writes the texts and the job spec a peer runs; maxTexts > 0 limits each corpus
// to its first maxTexts texts and the batch sizes to at most maxTexts.
func peerSpec(o *options, maxTexts int, work string, all map[string][]string, names []string, batchSizes []int) (peers.Spec, error) {
	spec := peers.Spec{ModelDir: o.ModelDir, Threads: o.Threads, MaxSeqLength: o.MaxSeqLength}
	bs := batchSizes
	suffix := ""
	if maxTexts > 0 {
		suffix = fmt.Sprintf(".first%d", maxTexts)
		bs = nil
		for _, b := range batchSizes {
			if b <= maxTexts {
				bs = append(bs, b)
			}
		}
		if len(bs) == 0 {
			bs = batchSizes[:1]
		}
	}
	for _, n := range names {
		texts := all[n]
		if maxTexts > 0 && len(texts) > maxTexts {
			texts = texts[:maxTexts]
		}
		f := filepath.Join(work, n+suffix+".texts.jsonl")
		if err := peers.WriteTexts(f, texts); err != nil {
			return spec, err
		}
		spec.Jobs = append(spec.Jobs, peers.Job{Name: n, Mode: "chunked", TextsFile: f, BatchSizes: bs, WarmupCalls: 1, Repeat: o.repeat})
	}
	return spec, nil
}

func reasonOf(err error) string {
	if nr, ok := err.(*peers.NotRunError); ok {
		return nr.Reason
	}
	return err.Error()
}

func newRun(engine, kind, corpus string, batch, texts int, lat []time.Duration, secs float64, peak measure.MemPeak) report.BatchRun {
	ms := measure.Millis(lat)
	r := report.BatchRun{
		Engine: engine, Kind: kind, Corpus: corpus, BatchSize: batch, Texts: texts, Calls: len(lat),
		Seconds: secs, P50Ms: measure.Percentile(ms, 50), P99Ms: measure.Percentile(ms, 99),
		PeakHeapSys: peak.HeapSys, PeakSys: peak.Sys,
	}
	if kind != report.KindPeer {
		r.VmHWM = measure.PeakRSS()
	}
	if secs > 0 {
		r.TextsPerSec = float64(texts) / secs
	}
	return r
}

func corpusInfo(tok *tokenizer.Tokenizer, name, source string, texts []string, maxSeq int) (report.Corpus, error) {
	c := report.Corpus{Name: name, Source: source, Texts: len(texts)}
	total := 0
	for _, t := range texts {
		enc, err := tok.Encode(t, tokenizer.MaxMaxLen)
		if err != nil {
			return c, err
		}
		n := enc.Len()
		if n > maxSeq {
			c.Truncated++
			n = maxSeq
		}
		total += n
		if n > c.MaxTokens {
			c.MaxTokens = n
		}
	}
	if len(texts) > 0 {
		c.MeanTokens = float64(total) / float64(len(texts))
	}
	return c, nil
}

// cpuISA describes the kernels the cpu engine of precision p runs on this machine: the
// float32 kernel set the backend reports, and for int8 the int8 kernels the backend selects
// (kernels.SelectInt8 at its best level), for bf16 whether the CPU has AVX-512 BF16.
func cpuISA(modelDir string, p cpu.Precision) string {
	be, err := cpu.New(modelDir, cpu.WithThreads(1), cpu.WithPrecision(p))
	if err != nil {
		return ""
	}
	defer be.Close()
	switch p {
	case cpu.Int8:
		ks := kernels.SelectInt8(kernels.Int8Best)
		return fmt.Sprintf("int8 GEMM %s (float32 parts: %s)", ks.Name(), be.ISA())
	case cpu.BF16:
		return fmt.Sprintf("bfloat16 weights on the %s kernels; CPU has AVX-512 BF16: %v", be.ISA(), xcpu.X86.HasAVX512BF16)
	}
	return be.ISA()
}

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
