package report

import (
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

// Published are the MTEB scores of sentence-transformers/all-MiniLM-L6-v2 on SciFact test
// (embeddings-benchmark/results, mteb 1.12.75; see shared/data/README.md).
var Published = Quality{NDCG10: 0.64508, Recall10: 0.78333, Recall100: 0.925}

// Quality are retrieval scores averaged over the queries.
type Quality struct {
	NDCG10    float64 `json:"ndcg_at_10"`
	Recall10  float64 `json:"recall_at_10"`
	Recall100 float64 `json:"recall_at_100"`
}

// Latency is a latency distribution summary in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	N   int     `json:"n"`
}

// LatencyOf summarizes millisecond samples.
func LatencyOf(ms []float64) Latency {
	return Latency{P50: measure.Percentile(ms, 50), P99: measure.Percentile(ms, 99), N: len(ms)}
}

// RAGEngine is one engine's RAG results.
type RAGEngine struct {
	Engine string `json:"engine"`
	Ours   bool   `json:"ours"`
	Quality
	DeltaNDCG10 float64 `json:"delta_ndcg_at_10_vs_published"`
	// Ingest: the whole corpus in one Embed call (batch size 32).
	IngestTexts       int     `json:"ingest_texts"`
	IngestSeconds     float64 `json:"ingest_seconds"`
	IngestTextsPerSec float64 `json:"ingest_texts_per_sec"`
	IndexBuildMs      float64 `json:"index_build_ms"`
	SearchAllMs       float64 `json:"search_all_queries_ms"`
	// Query: embed one query + top-10 search, one query at a time.
	Query Latency `json:"query_latency"`
	// Single: embedding one text (a query) per call.
	Single Latency `json:"single_text_latency"`
	// Batch32: calls of 32 corpus texts each.
	Batch32TextsPerSec float64 `json:"batch32_texts_per_sec"`
	// ColdStartMs: process start (exec) to the first vector, median over runs.
	ColdStartMs  float64   `json:"cold_start_ms"`
	ColdStartAll []float64 `json:"cold_start_runs_ms,omitempty"`
	VmHWM        uint64    `json:"ingest_vmhwm_bytes,omitempty"`
	PeakHeapSys  uint64    `json:"ingest_peak_heap_sys_bytes,omitempty"`
	// Quantized: retrieval with the library's quantized embeddings of the same vectors.
	Quantized []QuantizedQuality `json:"quantized,omitempty"`
}

// QuantizedQuality is retrieval quality with one quantized form of the embeddings.
type QuantizedQuality struct {
	Precision      string `json:"precision"`
	BytesPerVector int    `json:"bytes_per_vector"`
	Quality
	DeltaNDCG10 float64 `json:"delta_ndcg_at_10_vs_float32"`
}

// RAGConfig is what the RAG run was asked to do.
type RAGConfig struct {
	Threads      int      `json:"threads"`
	MaxSeqLength int      `json:"max_seq_length"`
	BatchSize    int      `json:"batch_size"`
	Quick        bool     `json:"quick"`
	Gate         float64  `json:"gate"`
	GateApplied  bool     `json:"gate_applied"`
	Queries      int      `json:"queries"`
	Docs         int      `json:"docs"`
	ModelDir     string   `json:"model_dir"`
	DataDir      string   `json:"data_dir"`
	Command      []string `json:"command"`
}

// RAGReport is the RAGMiniLMBenchmarks' results.json.
type RAGReport struct {
	Benchmark string                            `json:"benchmark"`
	Started   time.Time                         `json:"started"`
	Seconds   float64                           `json:"seconds"`
	Machine   measure.Machine                   `json:"machine"`
	Config    RAGConfig                         `json:"config"`
	Published Quality                           `json:"published"`
	Engines   []RAGEngine                       `json:"engines"`
	NotRun    []NotRun                          `json:"not_run"`
	Failures  []string                          `json:"gate_failures"`
	Notes     []string                          `json:"notes"`
	Versions  map[string]map[string]interface{} `json:"peer_versions,omitempty"`
}

// Write stores results.json, report.md and rag.png in dir.
func (r *RAGReport) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "results.json"), r); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644); err != nil {
		return err
	}
	ingest := Panel{Title: "SciFact ingest", YLabel: "texts/s (batch 32)"}
	query := Panel{Title: "query latency p50", YLabel: "ms (embed + top-10)"}
	cold := Panel{Title: "cold start", YLabel: "ms (exec to first vector)"}
	for _, e := range r.Engines {
		ingest.Bars = append(ingest.Bars, Bar{e.Engine, e.IngestTextsPerSec})
		query.Bars = append(query.Bars, Bar{e.Engine, e.Query.P50})
		cold.Bars = append(cold.Bars, Bar{e.Engine, e.ColdStartMs})
	}
	if len(r.Engines) == 0 {
		return nil
	}
	return WritePNG(filepath.Join(dir, "rag.png"), []Panel{ingest, query, cold}, 3.6*vg.Inch, 3.8*vg.Inch)
}

// Markdown renders the report.
func (r *RAGReport) Markdown() string {
	var b strings.Builder
	m := r.Machine
	b.WriteString("# RAGMiniLMBenchmarks: BEIR SciFact\n\n")
	fmt.Fprintf(&b, "%s, %.0f s. Machine: %s (%s), %d CPUs, GOMAXPROCS %d, %s/%s, %s, load at start %s.  \n",
		r.Started.Format("2006-01-02 15:04 MST"), r.Seconds, m.CPU, m.CPUFlags, m.NumCPU, m.GOMAXPROCS, m.GOOS, m.GOARCH, m.GoVersion, m.Load1)
	fmt.Fprintf(&b, "%d documents embedded as `(title + \" \" + text).strip()`, %d queries, max %d tokens, batch size %d, %d threads for every engine; exact flat cosine index. quick=%v.\n\n",
		r.Config.Docs, r.Config.Queries, r.Config.MaxSeqLength, r.Config.BatchSize, r.Config.Threads, r.Config.Quick)
	b.WriteString("## Retrieval quality (test qrels)\n\n| engine | nDCG@10 | Δ vs published | recall@10 | recall@100 |\n|---|--:|--:|--:|--:|\n")
	fmt.Fprintf(&b, "| published (MTEB) | %.5f | | %.5f | %.5f |\n", r.Published.NDCG10, r.Published.Recall10, r.Published.Recall100)
	for _, e := range r.Engines {
		fmt.Fprintf(&b, "| %s | %.5f | %+.5f | %.5f | %.5f |\n", e.Engine, e.NDCG10, e.DeltaNDCG10, e.Recall10, e.Recall100)
	}
	switch {
	case !r.Config.GateApplied:
		b.WriteString("\nGate not applied (quick mode runs a subset, whose scores are not comparable with the published full-corpus figures).\n")
	case len(r.Failures) == 0:
		fmt.Fprintf(&b, "\nGate: every float32 engine of ours is within ±%.3f nDCG@10 of the published figure: PASS.\n", r.Config.Gate)
	default:
		fmt.Fprintf(&b, "\nGate (±%.3f nDCG@10): **FAIL**: %s\n", r.Config.Gate, strings.Join(r.Failures, "; "))
	}
	for _, e := range r.Engines {
		if len(e.Quantized) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### Quantized embeddings (%s)\n\nThe same vectors in the library's output precisions (embed.OutputPrecision); int8/uint8 ranges calibrated on the documents, ranked by the codes' dot product; binary by Hamming distance.\n\n| precision | bytes/vector | nDCG@10 | Δ vs float32 | recall@10 | recall@100 |\n|---|--:|--:|--:|--:|--:|\n", e.Engine)
		fmt.Fprintf(&b, "| float32 | %d | %.5f | | %.5f | %.5f |\n", 4*384, e.NDCG10, e.Recall10, e.Recall100)
		for _, q := range e.Quantized {
			fmt.Fprintf(&b, "| %s | %d | %.5f | %+.5f | %.5f | %.5f |\n", q.Precision, q.BytesPerVector, q.NDCG10, q.DeltaNDCG10, q.Recall10, q.Recall100)
		}
	}
	b.WriteString("\n## Speed\n\n| engine | ingest texts/s | index build ms | query p50 / p99 ms | single text p50 / p99 ms | batch-32 texts/s | cold start ms | ingest VmHWM MiB |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, e := range r.Engines {
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.2f / %.2f | %.2f / %.2f | %.1f | %.0f | %s |\n", e.Engine, e.IngestTextsPerSec, e.IndexBuildMs,
			e.Query.P50, e.Query.P99, e.Single.P50, e.Single.P99, e.Batch32TextsPerSec, e.ColdStartMs, mib(e.VmHWM))
	}
	var ours []RAGEngine
	var others []RAGEngine
	for _, e := range r.Engines {
		if e.Ours {
			ours = append(ours, e)
		} else {
			others = append(others, e)
		}
	}
	if len(ours) > 0 && len(others) > 0 {
		o := ours[0]
		fmt.Fprintf(&b, "\n## %s relative to each peer (>1 = %s faster)\n\n| peer | ingest | batch-32 | single text p50 | query p50 | cold start |\n|---|--:|--:|--:|--:|--:|\n", o.Engine, o.Engine)
		for _, p := range others {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", p.Engine, ratio(o.IngestTextsPerSec, p.IngestTextsPerSec), ratio(o.Batch32TextsPerSec, p.Batch32TextsPerSec),
				ratio(p.Single.P50, o.Single.P50), ratio(p.Query.P50, o.Query.P50), ratio(p.ColdStartMs, o.ColdStartMs))
		}
		b.WriteString("\nThroughput ratios are ours/peer; latency and cold-start ratios are peer/ours.\n")
	}
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
	b.WriteString("\n![rag](rag.png)\n")
	return b.String()
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 || math.IsNaN(a/b) {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}
