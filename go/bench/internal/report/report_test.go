package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fakeReport() *BatchReport {
	r := &BatchReport{Benchmark: "BatchEmbeddingBenchmark", Started: time.Unix(0, 0).UTC(),
		Config:  BatchConfig{Threads: 2, MaxSeqLength: 256, BaselineShape: "(1,512)", BatchSizes: []int{1, 8}},
		Corpora: []Corpus{{Name: "short", Texts: 10}},
	}
	r.Runs = []BatchRun{
		{Engine: "cpu", Kind: KindBaseline, Corpus: "short", BatchSize: 1, TextsPerSec: 10},
		{Engine: "cpu", Kind: KindBatched, Corpus: "short", BatchSize: 1, TextsPerSec: 12},
		{Engine: "cpu", Kind: KindBatched, Corpus: "short", BatchSize: 8, TextsPerSec: 40},
		{Engine: "peer", Kind: KindPeer, Corpus: "short", BatchSize: 8, TextsPerSec: 20},
	}
	return r
}

func TestFinishComputesSpeedupAndRatios(t *testing.T) {
	r := fakeReport()
	r.Finish("cpu")
	want := []float64{1, 1.2, 4, 2}
	for i, w := range want {
		if got := r.Runs[i].Speedup; got < w-1e-9 || got > w+1e-9 {
			t.Errorf("run %d speedup %v, want %v", i, got, w)
		}
	}
	if len(r.Ratios) != 1 || r.Ratios[0].Ratio != 2 || r.Ratios[0].BatchSize != 8 {
		t.Fatalf("ratios %+v, want one of 2 at b=8", r.Ratios)
	}
}

func TestWriteProducesFiles(t *testing.T) {
	dir := t.TempDir()
	r := fakeReport()
	r.Finish("cpu")
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.json", "report.md", "throughput.png", "speedup.png"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if err := CheckFinite(filepath.Join(dir, "results.json"), "texts_per_sec", "speedup_vs_baseline"); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, s := range []string{"| cpu batched | 12.0 | 40.0 |", "4.00×", "**cpu batched / peer**", "| short | – | 2.00 |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q:\n%s", s, md)
		}
	}
}

func TestCheckFinite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	_ = os.WriteFile(p, []byte(`{"a": [1, {"b": 2}]}`), 0o644)
	if err := CheckFinite(p, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := CheckFinite(p, "c"); err == nil {
		t.Fatal("missing key accepted")
	}
	if err := CheckFinite(filepath.Join(dir, "none.json")); err == nil {
		t.Fatal("missing file accepted")
	}
}

// The headline table shows every batched engine and peer per corpus and batch size with the
// requested ratios; the quality table shows each engine's scores and STS-B delta against
// sentence-transformers.
func TestHeadlineAndQuality(t *testing.T) {
	r := fakeReport()
	r.Runs = append(r.Runs,
		BatchRun{Engine: "cpu(int8)", Kind: KindBatched, Corpus: "short", BatchSize: 8, TextsPerSec: 90, Precision: "int8"},
		BatchRun{Engine: "ort int8", Kind: KindPeer, Corpus: "short", BatchSize: 8, TextsPerSec: 60, Precision: "int8"},
	)
	r.Headline = []Pair{{Ours: "cpu", Peer: "peer"}, {Ours: "cpu(int8)", Peer: "ort int8"}}
	r.Quality = []EngineQuality{
		{Engine: "cpu", Kind: KindBatched, Precision: "float32", ReferenceTexts: 5, CosineMean: 1, CosineMin: 0.99999, STSBPairs: 3, STSBSpearman: 0.82},
		{Engine: "cpu(int8)", Kind: KindBatched, Precision: "int8", ReferenceTexts: 5, CosineMean: 0.995, CosineMin: 0.97, STSBPairs: 3, STSBSpearman: 0.815},
		{Engine: "sentence-transformers (torch cpu)", Kind: KindPeer, Precision: "float32", ReferenceTexts: 5, CosineMean: 1, CosineMin: 1, STSBPairs: 3, STSBSpearman: 0.821},
	}
	r.Finish("cpu")
	if got := r.Quality[1].STSBDelta; got < -0.0060001 || got > -0.0059999 || r.Quality[1].DeltaVs != "sentence-transformers (torch cpu)" {
		t.Errorf("int8 STS-B delta %v vs %q, want -0.006 vs sentence-transformers", got, r.Quality[1].DeltaVs)
	}
	for _, run := range r.Runs {
		if run.Engine == "cpu(int8)" && run.Speedup != 9 { // over the float32 baseline (10 texts/s)
			t.Errorf("cpu(int8) speedup %v, want 9 (over cpu's baseline)", run.Speedup)
		}
	}
	md := r.Markdown()
	for _, s := range []string{
		"| corpus | batch | cpu | cpu(int8) | peer | ort int8 | cpu / peer | cpu(int8) / ort int8 |",
		"| short | 1 | 12.0 | – | – | – | – | – |",
		"| short | 8 | 40.0 | 90.0 | 20.0 | 60.0 | **2.00** | **1.50** |",
		"| cpu(int8) | int8 | 0.99500 | 0.97000 | 0.8150 | -0.0060 |",
		"Δ vs sentence-transformers (torch cpu)",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("report.md lacks %q:\n%s", s, md)
		}
	}
}

func TestBestRuns(t *testing.T) {
	runs := []BatchRun{
		{Engine: "cpu", Kind: KindBatched, Corpus: "short", BatchSize: 1, TextsPerSec: 10, P50Ms: 5},
		{Engine: "cpu", Kind: KindBatched, Corpus: "short", BatchSize: 32, TextsPerSec: 50},
		{Engine: "peer", Kind: KindPeer, Corpus: "short", BatchSize: 1, TextsPerSec: 7},
		{Engine: "cpu", Kind: KindBatched, Corpus: "short", BatchSize: 1, TextsPerSec: 12, P50Ms: 4},
		{Engine: "cpu", Kind: KindBatched, Corpus: "short", BatchSize: 32, TextsPerSec: 40},
		{Engine: "peer", Kind: KindPeer, Corpus: "short", BatchSize: 1, TextsPerSec: 9},
	}
	got := BestRuns(runs)
	want := []struct {
		engine string
		batch  int
		tps    float64
	}{{"cpu", 1, 12}, {"cpu", 32, 50}, {"peer", 1, 9}}
	if len(got) != len(want) {
		t.Fatalf("%d runs, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Engine != w.engine || got[i].BatchSize != w.batch || got[i].TextsPerSec != w.tps || got[i].Rounds != 2 {
			t.Errorf("run %d: %+v, want %s b=%d %v texts/s from 2 rounds", i, got[i], w.engine, w.batch, w.tps)
		}
	}
	if got[0].P50Ms != 4 {
		t.Errorf("best run's latency %v, want that run's own (4)", got[0].P50Ms)
	}
}
