package engines

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
	"github.com/minilm-coreml/minilm/go/plan"
	"github.com/minilm-coreml/minilm/go/tokenizer"
)

// TestMain says how many tests were skipped for want of the model directory.
func TestMain(m *testing.M) { os.Exit(testmodel.Main(m)) }

func TestListSkipsCoreMLWhereUnavailable(t *testing.T) {
	list, err := List(Config{ModelDir: "unused", Threads: 1, ComputeUnits: []string{"all"}})
	if err != nil {
		t.Fatal(err)
	}
	if list[0].Name != "cpu" || list[0].Skip != "" || list[0].Open == nil {
		t.Fatalf("first engine %+v, want a runnable cpu", list[0])
	}
	if len(list) != 5 {
		t.Fatalf("%d engines, want cpu + 4 Core ML compute-unit settings", len(list))
	}
	for _, e := range list[1:] {
		if !strings.HasPrefix(e.Name, "coreml(") || (e.Skip == "") == (e.Open == nil) {
			t.Errorf("engine %+v: want a Core ML engine that is either skipped or openable", e)
		}
	}
	if _, err := List(Config{ComputeUnits: []string{"bogus"}}); err == nil {
		t.Error("unknown compute units accepted")
	}
	if l, _ := List(Config{ComputeUnits: []string{"none"}}); len(l) != 1 {
		t.Errorf("--compute-units none left %d engines", len(l))
	}
}

// The serial (1,512) baseline and the batched path must give the same vectors.
func TestSerialMatchesBatched(t *testing.T) {
	dir := testmodel.ModelDir(t)
	list, err := List(Config{ModelDir: dir, Threads: 2, ComputeUnits: []string{"none"}})
	if err != nil {
		t.Fatal(err)
	}
	cpu := list[0]
	be, err := cpu.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"A man is playing a guitar.", "The cat sits on the mat while it rains outside, again."}
	ctx := context.Background()
	serial, lat, err := Serial(ctx, be, tok, texts, 256, BaselineShape)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != len(texts) {
		t.Fatalf("%d latencies", len(lat))
	}
	if _, _, err := Serial(ctx, be, tok, texts, 256, plan.Shape{Batch: 2, Seq: 512}); err == nil {
		t.Fatal("a two-row baseline shape was accepted")
	}
	emb, err := NewEmbedder(cpu, dir, 8, 256)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	batched, calls, err := Chunked(ctx, emb, texts, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("%d calls for 2 texts in chunks of 1", len(calls))
	}
	for i := range texts {
		if c := vecmath.Cosine(serial[i], batched[i]); c < 0.99999 {
			t.Errorf("text %d: cosine(serial, batched) = %.7f", i, c)
		}
	}
}

func TestParsePrecisions(t *testing.T) {
	tests := []struct {
		in   string
		want []cpu.Precision
		err  bool
	}{
		{"float32,bf16,int8", []cpu.Precision{cpu.Float32, cpu.BF16, cpu.Int8}, false},
		{" int8 , fp32,int8", []cpu.Precision{cpu.Int8, cpu.Float32}, false},
		{"", nil, true},
		{"float32,fp16", nil, true},
	}
	for _, tt := range tests {
		got, err := ParsePrecisions(tt.in)
		if (err != nil) != tt.err || len(got) != len(tt.want) {
			t.Errorf("ParsePrecisions(%q) = %v, %v", tt.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParsePrecisions(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

// One CPU engine per precision, named as the backend names itself; only float32 carries the
// serial baseline.
func TestListPrecisions(t *testing.T) {
	list, err := List(Config{ModelDir: "unused", Threads: 1, ComputeUnits: []string{"none"},
		Precisions: []cpu.Precision{cpu.Int8, cpu.Float32, cpu.BF16}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name       string
		prec       cpu.Precision
		noBaseline bool
	}{{"cpu(int8)", cpu.Int8, true}, {"cpu", cpu.Float32, false}, {"cpu(bf16)", cpu.BF16, true}}
	if len(list) != len(want) {
		t.Fatalf("%d engines, want %d", len(list), len(want))
	}
	for i, w := range want {
		e := list[i]
		if e.Name != w.name || e.Precision != w.prec || e.NoBaseline != w.noBaseline || (e.OpenBaseline == nil) != w.noBaseline || e.Open == nil {
			t.Errorf("engine %d: %+v, want %+v", i, e, w)
		}
	}
}
