// Package engines lists the backends the benchmarks measure and runs the two embedding
// paths they compare: the serial baseline (one text per call, padded to a fixed (1, 512)
// shape, as the app the conversion guide started from did) and the batched, length-bucketed
// path of package embed.
//
// The list is built so that each backend plugs in where it can run: the pure-Go CPU encoder
// everywhere, Core ML (one engine per compute-unit setting) on darwin builds with cgo and a
// Core ML model. Elsewhere an engine comes with the reason it is skipped.
package engines

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/backend/coreml"
	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/cpuknobs"
	"github.com/minilm-coreml/minilm/go/plan"
	"github.com/minilm-coreml/minilm/go/pooling"
	"github.com/minilm-coreml/minilm/go/tokenizer"
)

// BaselineShape is the fixed input shape of the serial baseline.
var BaselineShape = plan.Shape{Batch: 1, Seq: 512}

// Engine is one backend configuration.
type Engine struct {
	Name string
	// Open returns a fresh backend; the caller closes it.
	Open func() (backend.Backend, error)
	// OpenBaseline, if set, opens the backend the serial (1, 512) baseline runs on: for the
	// CPU encoder, the same kernels computing every padded position, as the fixed-shape model
	// of the conversion guide does (by default the CPU backend skips padding, which would make
	// the baseline cheaper than the engine it stands for). Core ML computes the padding anyway.
	OpenBaseline func() (backend.Backend, error)
	// Skip, when not empty, is why this engine cannot run here.
	Skip string
	// Precision is the compute precision of a CPU engine (cpu.Float32 for Core ML).
	Precision cpu.Precision
	// NoBaseline marks an engine that runs no serial (1, 512) baseline of its own: the CPU
	// encoder in bf16 or int8, whose speedups are given over the float32 baseline.
	NoBaseline bool
}

// Config selects the engines.
type Config struct {
	ModelDir string
	Threads  int
	// CoreMLModel is the compiled (.mlmodelc) or package (.mlpackage) Core ML model; empty
	// means $MINILM_COREML_MODEL.
	CoreMLModel string
	// ComputeUnits lists the Core ML settings to run ("all" for every one).
	ComputeUnits []string
	// Precisions lists the CPU encoder's compute precisions to run, one engine each; empty
	// means float32 only.
	Precisions []cpu.Precision
}

// CPUName is the name of the CPU engine in precision p: "cpu" for float32 (the name the
// reports have always used), "cpu(bf16)" and "cpu(int8)" otherwise, as cpu.Backend.Name.
func CPUName(p cpu.Precision) string {
	if p == cpu.Float32 {
		return "cpu"
	}
	return "cpu(" + p.String() + ")"
}

// ParsePrecisions parses a comma-separated list of precisions ("float32,bf16,int8").
func ParsePrecisions(s string) ([]cpu.Precision, error) {
	var out []cpu.Precision
	seen := map[cpu.Precision]bool{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := cpu.ParsePrecision(f)
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no precision in %q", s)
	}
	return out, nil
}

// List returns one CPU engine per precision, in the order given (the float32 one carries the
// serial baseline), and one Core ML engine per compute-unit setting. A precision the CPU
// backend cannot build here (not implemented, or the CPU lacks what it needs) is not
// detected here: opening that engine fails, and the benchmarks report it as not run.
func List(cfg Config) ([]Engine, error) {
	precs := cfg.Precisions
	if len(precs) == 0 {
		precs = []cpu.Precision{cpu.Float32}
	}
	var out []Engine
	for _, p := range precs {
		p := p
		e := Engine{
			Name:      CPUName(p),
			Precision: p,
			Open: func() (backend.Backend, error) {
				return cpu.New(cfg.ModelDir, cpu.WithThreads(cfg.Threads), cpu.WithPrecision(p))
			},
		}
		if p == cpu.Float32 {
			e.OpenBaseline = func() (backend.Backend, error) {
				return cpu.New(cfg.ModelDir, cpu.WithThreads(cfg.Threads), cpuknobs.FixedShapes().(cpu.Option))
			}
		} else {
			e.NoBaseline = true
		}
		out = append(out, e)
	}
	units, err := computeUnits(cfg.ComputeUnits)
	if err != nil {
		return nil, err
	}
	model := cfg.CoreMLModel
	if model == "" {
		model = envCoreML()
	}
	for _, u := range units {
		u := u
		e := Engine{Name: "coreml(" + u.String() + ")"}
		switch {
		case !coreml.Available():
			e.Skip = fmt.Sprintf("Core ML needs a darwin build with cgo; this is %s/%s", runtime.GOOS, runtime.GOARCH)
		case model == "":
			e.Skip = "no Core ML model: pass --coreml-model (a .mlmodelc or .mlpackage, e.g. bazel-bin/models/minilm_mlmodelc) or set " + embed.EnvCoreMLModel
		default:
			e.Open = func() (backend.Backend, error) { return coreml.New(model, coreml.WithComputeUnits(u)) }
		}
		out = append(out, e)
	}
	return out, nil
}

func computeUnits(names []string) ([]coreml.ComputeUnits, error) {
	all := []coreml.ComputeUnits{coreml.CPUOnly, coreml.CPUAndGPU, coreml.All, coreml.CPUAndNeuralEngine}
	if len(names) == 0 || (len(names) == 1 && names[0] == "all") {
		return all, nil
	}
	var out []coreml.ComputeUnits
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || n == "none" {
			continue
		}
		u, err := coreml.ParseComputeUnits(n)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// NewEmbedder wraps a freshly opened backend of e in an Embedder with the given batch size.
func NewEmbedder(e Engine, modelDir string, batchSize, maxSeq int) (*embed.Embedder, error) {
	be, err := e.Open()
	if err != nil {
		return nil, err
	}
	emb, err := embed.New(embed.WithModelDir(modelDir), embed.WithCustomBackend(be),
		embed.WithBatchSize(batchSize), embed.WithMaxSeqLength(maxSeq))
	if err != nil {
		be.Close()
		return nil, err
	}
	return emb, nil
}

// Serial embeds texts one per call, each padded to shape (the baseline): tokenize, pad,
// Forward, mean-pool and normalize, exactly the per-text path of the original app. It
// returns the vectors and each call's latency (tokenization included).
func Serial(ctx context.Context, be backend.Backend, tok *tokenizer.Tokenizer, texts []string, maxSeq int, shape plan.Shape) ([][]float32, []time.Duration, error) {
	if shape.Batch != 1 {
		return nil, nil, fmt.Errorf("serial baseline needs one row, got %v", shape)
	}
	if got, ok := be.Shapes().Fit(1, shape.Seq); !ok || got != shape {
		return nil, nil, fmt.Errorf("%s cannot run the fixed shape %v (it would run %v)", be.Name(), shape, got)
	}
	dim := be.HiddenSize()
	ids := make([]int32, shape.Seq)
	mask := make([]int32, shape.Seq)
	types := make([]int32, shape.Seq)
	hidden := make([]float32, shape.Seq*dim)
	vecs := make([][]float32, len(texts))
	lat := make([]time.Duration, len(texts))
	for i, text := range texts {
		start := time.Now()
		enc, err := tok.Encode(text, maxSeq)
		if err != nil {
			return nil, nil, err
		}
		for j := range ids {
			ids[j], mask[j] = 0, 0
		}
		copy(ids, enc.IDs)
		copy(mask, enc.Mask)
		in := &backend.Input{Shape: shape, Rows: 1, IDs: ids, Mask: mask, TypeIDs: types}
		if err := be.Forward(ctx, in, hidden); err != nil {
			return nil, nil, fmt.Errorf("%s forward %v: %w", be.Name(), shape, err)
		}
		v, err := pooling.Embed(hidden, mask, 1, shape.Seq, dim)
		if err != nil {
			return nil, nil, err
		}
		lat[i] = time.Since(start)
		vecs[i] = v[0]
	}
	return vecs, lat, nil
}

// Chunked feeds texts to e in calls of chunk texts each (the application hands the engine
// chunk texts at a time) and returns the vectors and each call's latency.
func Chunked(ctx context.Context, e *embed.Embedder, texts []string, chunk int) ([][]float32, []time.Duration, error) {
	if chunk < 1 {
		chunk = 1
	}
	vecs := make([][]float32, 0, len(texts))
	var lat []time.Duration
	for i := 0; i < len(texts); i += chunk {
		end := i + chunk
		if end > len(texts) {
			end = len(texts)
		}
		start := time.Now()
		v, err := e.Embed(ctx, texts[i:end])
		if err != nil {
			return nil, nil, err
		}
		lat = append(lat, time.Since(start))
		vecs = append(vecs, v...)
	}
	return vecs, lat, nil
}
