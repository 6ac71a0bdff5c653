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
