// Package report turns benchmark measurements into results.json, report.md and PNG plots.
package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minilm-coreml/minilm/go/bench/internal/measure"
	"gonum.org/v1/plot/vg"
)

// Kinds of batch-benchmark runs.
const (
	KindBaseline = "baseline" // one text per call, padded to (1, 512), our backend
	KindBatched  = "batched"  // embed.Embedder, length-bucketed batches
	KindPeer     = "peer"     // another engine, same texts and threads
)

// BatchRun is one engine on one corpus at one batch size.
type BatchRun struct {
	Engine      string  `json:"engine"`
	Kind        string  `json:"kind"`
	Corpus      string  `json:"corpus"`
	BatchSize   int     `json:"batch_size"`
	Texts       int     `json:"texts"`
	Calls       int     `json:"calls"`
	Seconds     float64 `json:"seconds"`
	TextsPerSec float64 `json:"texts_per_sec"`
	// Speedup is TextsPerSec over the serial (1,512) baseline of the same backend (for peers:
	// of the cpu backend) on the same corpus.
	Speedup float64 `json:"speedup_vs_baseline"`
	P50Ms   float64 `json:"call_latency_p50_ms"`
	P99Ms   float64 `json:"call_latency_p99_ms"`
	// Memory: Go runtime peaks sampled during the run (ours only) and the process's VmHWM
	// after resetting it before the run (Linux).
	PeakHeapSys uint64 `json:"peak_heap_sys_bytes,omitempty"`
	PeakSys     uint64 `json:"peak_go_sys_bytes,omitempty"`
	VmHWM       uint64 `json:"vmhwm_bytes,omitempty"`
	// BaselineEngine names the run Speedup divides by.
	BaselineEngine string `json:"baseline_engine,omitempty"`
	// Precision is the engine's compute precision: float32, bf16 or int8.
	Precision string `json:"precision,omitempty"`
	// Rounds is how many runs of this engine, corpus and batch size BestRuns chose from.
	Rounds int `json:"rounds,omitempty"`
}

// BestRuns keeps, for each engine, kind, corpus and batch size, the run with the highest
// throughput (best of N rounds), in the order of first appearance, and records in Rounds how
// many runs it was chosen from.
func BestRuns(runs []BatchRun) []BatchRun {
	var out []BatchRun
	at := map[string]int{}
	for _, r := range runs {
		k := fmt.Sprintf("%s|%s|%s|%d", r.Engine, r.Kind, r.Corpus, r.BatchSize)
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			r.Rounds = 1
			out = append(out, r)
			continue
		}
		n := out[i].Rounds + 1
		if r.TextsPerSec > out[i].TextsPerSec {
			out[i] = r
		}
		out[i].Rounds = n
	}
	return out
}

// EngineQuality is how close one engine's vectors are to the reference implementation's.
type EngineQuality struct {
	Engine    string `json:"engine"`
	Kind      string `json:"kind"` // KindBatched (ours) or KindPeer
	Precision string `json:"precision,omitempty"`
	// ReferenceTexts parity-corpus texts were embedded; CosineMean and CosineMin compare them
	// with sentence-transformers' float32 vectors (testdata/fixtures/embeddings.npy).
	ReferenceTexts int     `json:"reference_texts"`
	CosineMean     float64 `json:"cosine_vs_reference_mean"`
	CosineMin      float64 `json:"cosine_vs_reference_min"`
	// STSBSpearman is the STS Benchmark test Spearman correlation over STSBPairs pairs, and
	// STSBDelta its difference from the engine named by DeltaVs (sentence-transformers when
	// it ran, else our float32 engine).
	STSBPairs    int     `json:"stsb_pairs"`
	STSBSpearman float64 `json:"stsb_spearman"`
	STSBDelta    float64 `json:"stsb_spearman_delta"`
	DeltaVs      string  `json:"stsb_delta_vs,omitempty"`
}

// Pair names two engines whose throughput ratio the headline table shows.
type Pair struct {
	Ours string `json:"ours"`
	Peer string `json:"peer"`
}

// Corpus describes one text set.
type Corpus struct {
	Name          string  `json:"name"`
	Source        string  `json:"source"`
	Texts         int     `json:"texts"`
	BaselineTexts int     `json:"baseline_texts"`
	MeanTokens    float64 `json:"mean_tokens"`
	MaxTokens     int     `json:"max_tokens"`
	Truncated     int     `json:"truncated_texts"`
	// MinCosineBatchedVsSerial is the lowest cosine similarity between a baseline text's
	// serial vector and its batched vector over every batch size (our engines).
	MinCosineBatchedVsSerial float64 `json:"min_cosine_batched_vs_serial,omitempty"`
}

// NotRun is an engine that was skipped, and why.
type NotRun struct {
	Engine string `json:"engine"`
	Reason string `json:"reason"`
}

// Ratio compares our batched path with a peer at one corpus and batch size.
type Ratio struct {
	Corpus    string  `json:"corpus"`
	BatchSize int     `json:"batch_size"`
	Ours      string  `json:"ours"`
	Peer      string  `json:"peer"`
	Ratio     float64 `json:"ours_over_peer_throughput"`
}

// BatchConfig is what the run was asked to do.
type BatchConfig struct {
	Threads       int      `json:"threads"`
	MaxSeqLength  int      `json:"max_seq_length"`
	BaselineShape string   `json:"baseline_shape"`
	BatchSizes    []int    `json:"batch_sizes"`
	Repeat        int      `json:"repeat"`
	Quick         bool     `json:"quick"`
	ModelDir      string   `json:"model_dir"`
	DataDir       string   `json:"data_dir"`
	Command       []string `json:"command"`
}

// BatchReport is the BatchEmbeddingBenchmark's results.json.
type BatchReport struct {
	Benchmark string                            `json:"benchmark"`
	Started   time.Time                         `json:"started"`
	Seconds   float64                           `json:"seconds"`
	Machine   measure.Machine                   `json:"machine"`
	Config    BatchConfig                       `json:"config"`
	Corpora   []Corpus                          `json:"corpora"`
	Runs      []BatchRun                        `json:"runs"`
	Ratios    []Ratio                           `json:"ratios"`
	NotRun    []NotRun                          `json:"not_run"`
	Quality   []EngineQuality                   `json:"quality,omitempty"`
	Headline  []Pair                            `json:"headline_pairs,omitempty"`
	Notes     []string                          `json:"notes"`
	Versions  map[string]map[string]interface{} `json:"peer_versions,omitempty"`
}

// Finish computes speedups and ours/peer ratios. ourEngine names the batched engine peers
// are compared with (e.g. "cpu"); peers, and our engines without a baseline of their own,
// get their speedups over its baseline. It also sets each quality row's STS-B delta: against
// the sentence-transformers peer when it was scored, else against ourEngine.
func (r *BatchReport) Finish(ourEngine string) {
	r.finishQuality(ourEngine)
	baseline := map[string]BatchRun{} // engine|corpus -> baseline run
	for _, run := range r.Runs {
		if run.Kind == KindBaseline {
			baseline[run.Engine+"|"+run.Corpus] = run
		}
	}
	for i := range r.Runs {
		run := &r.Runs[i]
		be := run.Engine
		if _, own := baseline[be+"|"+run.Corpus]; run.Kind == KindPeer || !own {
			be = ourEngine
		}
		if b, ok := baseline[be+"|"+run.Corpus]; ok && b.TextsPerSec > 0 {
			run.Speedup = run.TextsPerSec / b.TextsPerSec
			run.BaselineEngine = b.Engine + " serial " + r.Config.BaselineShape
		}
	}
	r.Ratios = nil
	for _, peer := range r.Runs {
		if peer.Kind != KindPeer {
			continue
		}
		for _, ours := range r.Runs {
			if ours.Kind == KindBatched && ours.Engine == ourEngine && ours.Corpus == peer.Corpus && ours.BatchSize == peer.BatchSize && peer.TextsPerSec > 0 {
				r.Ratios = append(r.Ratios, Ratio{Corpus: peer.Corpus, BatchSize: peer.BatchSize, Ours: ours.Engine, Peer: peer.Engine, Ratio: ours.TextsPerSec / peer.TextsPerSec})
			}
		}
	}
}

func (r *BatchReport) finishQuality(ourEngine string) {
	ref := -1
	for i, q := range r.Quality {
		if q.Kind == KindPeer && strings.HasPrefix(q.Engine, "sentence-transformers") {
			ref = i
		}
	}
	if ref < 0 {
		for i, q := range r.Quality {
			if q.Engine == ourEngine {
				ref = i
			}
		}
	}
	for i := range r.Quality {
		if ref < 0 || r.Quality[i].STSBPairs == 0 || r.Quality[ref].STSBPairs == 0 {
			continue
		}
		r.Quality[i].STSBDelta = r.Quality[i].STSBSpearman - r.Quality[ref].STSBSpearman
		r.Quality[i].DeltaVs = r.Quality[ref].Engine
	}
}

// throughput returns the texts/s of engine (a batched or peer run) on corpus at batch, or 0.
func (r *BatchReport) throughput(engine, corpus string, batch int) float64 {
	for _, run := range r.Runs {
		if run.Kind != KindBaseline && run.Engine == engine && run.Corpus == corpus && run.BatchSize == batch {
			return run.TextsPerSec
		}
	}
	return 0
}

// headline renders the precisions-against-peers table: one row per corpus and batch size,
// texts/s of every batched engine and peer, then the ratio of each Headline pair.
func (r *BatchReport) headline(b *strings.Builder) {
	var cols []string
	seen := map[string]bool{}
	for _, kind := range []string{KindBatched, KindPeer} {
		for _, run := range r.Runs {
			if run.Kind == kind && !seen[run.Engine] {
				seen[run.Engine] = true
				cols = append(cols, run.Engine)
			}
		}
	}
	if len(cols) == 0 {
		return
	}
	b.WriteString("\n## Every precision against every peer (texts/s; ratios >1 = ours faster)\n\n| corpus | batch |")
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", c)
	}
	for _, p := range r.Headline {
		fmt.Fprintf(b, " %s / %s |", p.Ours, p.Peer)
	}
	b.WriteString("\n|---|--:|")
	for range cols {
		b.WriteString("--:|")
	}
	for range r.Headline {
		b.WriteString("--:|")
	}
	b.WriteString("\n")
	for _, c := range r.Corpora {
		for _, x := range r.Config.BatchSizes {
			fmt.Fprintf(b, "| %s | %d |", c.Name, x)
			for _, e := range cols {
				if v := r.throughput(e, c.Name, x); v > 0 {
					fmt.Fprintf(b, " %.1f |", v)
				} else {
					b.WriteString(" – |")
				}
			}
			for _, p := range r.Headline {
				o, q := r.throughput(p.Ours, c.Name, x), r.throughput(p.Peer, c.Name, x)
				if o > 0 && q > 0 {
					fmt.Fprintf(b, " **%.2f** |", o/q)
				} else {
					b.WriteString(" – |")
				}
			}
			b.WriteString("\n")
		}
	}
}

// quality renders the quality table.
func (r *BatchReport) quality(b *strings.Builder) {
	if len(r.Quality) == 0 {
		return
	}
	deltaVs := ""
	for _, q := range r.Quality {
		if q.DeltaVs != "" {
			deltaVs = q.DeltaVs
		}
	}
	fmt.Fprintf(b, "\n## Quality\n\nCosine against sentence-transformers' float32 vectors of the parity corpus (testdata/fixtures, %d texts: STS-B and SciFact texts and edge cases, max 256 tokens); STS-B test Spearman of the cosine similarities.\n\n", r.Quality[0].ReferenceTexts)
	fmt.Fprintf(b, "| engine | precision | cosine mean | cosine min | STS-B Spearman | Δ vs %s |\n|---|---|--:|--:|--:|--:|\n", firstNonEmpty(deltaVs, "reference"))
	for _, q := range r.Quality {
		d := "–"
		if q.DeltaVs != "" {
			d = fmt.Sprintf("%+.4f", q.STSBDelta)
		}
		sp := "–"
		if q.STSBPairs > 0 {
			sp = fmt.Sprintf("%.4f", q.STSBSpearman)
		}
		fmt.Fprintf(b, "| %s | %s | %.5f | %.5f | %s | %s |\n", q.Engine, q.Precision, q.CosineMean, q.CosineMin, sp, d)
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// engines lists the distinct engine names of the runs in first-seen order, baselines first.
func (r *BatchReport) engines() []string {
	var out []string
	seen := map[string]bool{}
	for _, kind := range []string{KindBaseline, KindBatched, KindPeer} {
		for _, run := range r.Runs {
			key := label(run)
			if run.Kind == kind && !seen[key] {
				seen[key] = true
				out = append(out, key)
			}
		}
	}
	return out
}

func label(run BatchRun) string {
	switch run.Kind {
	case KindBaseline:
		return run.Engine + " serial (1,512)"
	case KindBatched:
		return run.Engine + " batched"
	}
	return run.Engine
}

func (r *BatchReport) find(lbl, corpus string, batch int) (BatchRun, bool) {
	for _, run := range r.Runs {
		if label(run) == lbl && run.Corpus == corpus && (run.Kind == KindBaseline || run.BatchSize == batch) {
			return run, true
		}
	}
	return BatchRun{}, false
}

// Write stores results.json, report.md, throughput.png and speedup.png in dir.
func (r *BatchReport) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "results.json"), r); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644); err != nil {
		return err
	}
	var thr, spd []Panel
	for _, c := range r.Corpora {
		tp := Panel{Title: c.Name + " texts", XLabel: "batch size", YLabel: "texts/s", LogX: true, LogY: true}
		sp := Panel{Title: c.Name + " texts", XLabel: "batch size", YLabel: "speedup over serial (1,512)", LogX: true, LogY: true}
		for _, lbl := range r.engines() {
			var s, q Series
			s.Name, q.Name = lbl, lbl
			for _, b := range r.Config.BatchSizes {
				run, ok := r.find(lbl, c.Name, b)
				if !ok {
					continue
				}
				s.X, s.Y = append(s.X, float64(b)), append(s.Y, run.TextsPerSec)
				q.X, q.Y = append(q.X, float64(b)), append(q.Y, run.Speedup)
				s.Dashed = run.Kind == KindBaseline
				q.Dashed = s.Dashed
			}
			tp.Series = append(tp.Series, s)
			sp.Series = append(sp.Series, q)
		}
		thr, spd = append(thr, tp), append(spd, sp)
	}
	if len(thr) == 0 {
		return nil
	}
	if err := WritePNG(filepath.Join(dir, "throughput.png"), thr, 4.2*vg.Inch, 3.6*vg.Inch); err != nil {
		return err
	}
	return WritePNG(filepath.Join(dir, "speedup.png"), spd, 4.2*vg.Inch, 3.6*vg.Inch)
}

// Markdown renders the report as tables.
func (r *BatchReport) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "# BatchEmbeddingBenchmark\n\n")
	fmt.Fprintf(&b, "%s, %.0f s. Machine: %s (%s), %d CPUs, GOMAXPROCS %d, %s/%s, %s, load at start %s.  \n",
		r.Started.Format("2006-01-02 15:04 MST"), r.Seconds, m.CPU, m.CPUFlags, m.NumCPU, m.GOMAXPROCS, m.GOOS, m.GOARCH, m.GoVersion, m.Load1)
	fmt.Fprintf(&b, "Every engine ran with %d threads, max %d tokens per text; batch sizes %v; quick=%v.\n\n",
		r.Config.Threads, r.Config.MaxSeqLength, r.Config.BatchSizes, r.Config.Quick)
	b.WriteString("| corpus | source | texts | baseline texts | mean tokens | max tokens | truncated | min cos batched vs serial |\n|---|---|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range r.Corpora {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.1f | %d | %d | %.6f |\n", c.Name, c.Source, c.Texts, c.BaselineTexts, c.MeanTokens, c.MaxTokens, c.Truncated, c.MinCosineBatchedVsSerial)
	}
	bs := r.Config.BatchSizes
	header := func(first string) {
		fmt.Fprintf(&b, "| %s |", first)
		for _, x := range bs {
			fmt.Fprintf(&b, " b=%d |", x)
		}
		b.WriteString("\n|---|")
		for range bs {
			b.WriteString("--:|")
		}
		b.WriteString("\n")
	}
	table := func(title string, cell func(run BatchRun) string) {
		fmt.Fprintf(&b, "\n## %s\n", title)
		for _, c := range r.Corpora {
			fmt.Fprintf(&b, "\n**%s**\n\n", c.Name)
			header("engine")
			for _, lbl := range r.engines() {
				fmt.Fprintf(&b, "| %s |", lbl)
				for _, x := range bs {
					run, ok := r.find(lbl, c.Name, x)
					if !ok {
						b.WriteString(" – |")
						continue
					}
					if run.Kind == KindBaseline && x != bs[0] {
						b.WriteString(" ″ |")
						continue
					}
					fmt.Fprintf(&b, " %s |", cell(run))
				}
				b.WriteString("\n")
			}
		}
	}
	r.headline(&b)
	r.quality(&b)
	b.WriteString("\nThe serial baseline is one text per call padded to (1,512), as the conversion guide's app did; it does not depend on the batch size (shown once, ″ = same).\n")
	table("Throughput (texts/s)", func(run BatchRun) string { return fmt.Sprintf("%.1f", run.TextsPerSec) })
	table("Speedup over the serial (1,512) baseline", func(run BatchRun) string { return fmt.Sprintf("%.2f×", run.Speedup) })
	if len(r.Ratios) > 0 {
		fmt.Fprintf(&b, "\n## Ours / peer (throughput ratio, >1 = ours faster)\n\n")
		peers := []string{}
		seen := map[string]bool{}
		for _, q := range r.Ratios {
			if !seen[q.Peer] {
				seen[q.Peer] = true
				peers = append(peers, q.Peer)
			}
		}
		for _, p := range peers {
			fmt.Fprintf(&b, "\n**%s batched / %s**\n\n", r.Ratios[0].Ours, p)
			header("corpus")
			for _, c := range r.Corpora {
				fmt.Fprintf(&b, "| %s |", c.Name)
				for _, x := range bs {
					v := "–"
					for _, q := range r.Ratios {
						if q.Peer == p && q.Corpus == c.Name && q.BatchSize == x {
							v = fmt.Sprintf("%.2f", q.Ratio)
						}
					}
					fmt.Fprintf(&b, " %s |", v)
				}
				b.WriteString("\n")
			}
		}
	}
	table("Latency per call, p50 / p99 (ms)", func(run BatchRun) string { return fmt.Sprintf("%.1f / %.1f", run.P50Ms, run.P99Ms) })
	table("Peak memory: VmHWM (MiB) [Go HeapSys peak]", func(run BatchRun) string {
		s := mib(run.VmHWM)
		if run.PeakHeapSys > 0 {
			s += " [" + mib(run.PeakHeapSys) + "]"
		}
		return s
	})
	if len(r.NotRun) > 0 {
		b.WriteString("\n## Not run\n\n")
		for _, n := range r.NotRun {
			fmt.Fprintf(&b, "- **%s**: %s\n", n.Engine, n.Reason)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	if len(r.Versions) > 0 {
		b.WriteString("\n## Peer versions\n\n")
		var names []string
		for k := range r.Versions {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(&b, "- %s: %s\n", k, versions(r.Versions[k]))
		}
	}
	b.WriteString("\n![throughput](throughput.png)\n\n![speedup](speedup.png)\n")
	return b.String()
}

func versions(v map[string]interface{}) string {
	var keys []string
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %v", k, v[k])
	}
	return strings.Join(parts, ", ")
}

func mib(b uint64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}

func writeJSON(path string, v interface{}) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// CheckFinite reports the first JSON number in a results file that is not finite or the
// first required key that is missing; encoding/json cannot write NaN, so a NaN makes Write
// fail and the file never exists. It is what the quick smoke tests check.
func CheckFinite(path string, requiredKeys ...string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var v interface{}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	found := map[string]bool{}
	var walk func(path string, v interface{}) error
	walk = func(p string, v interface{}) error {
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%s is %v", p, x)
			}
		case map[string]interface{}:
			for k, e := range x {
				found[k] = true
				if err := walk(p+"."+k, e); err != nil {
					return err
				}
			}
		case []interface{}:
			for i, e := range x {
				if err := walk(fmt.Sprintf("%s[%d]", p, i), e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("$", v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, k := range requiredKeys {
		if !found[k] {
			return fmt.Errorf("%s: no %q", path, k)
		}
	}
	return nil
}
