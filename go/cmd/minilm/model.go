package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/embed"
)

// modelFlags are the flags every command that embeds accepts.
type modelFlags struct {
	modelDir    string
	coreMLModel string
	backend     string
	batchSize   int
	maxSeq      int
	workers     int
	precision   string
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.modelDir, "model-dir", "", "model directory with config.json, tokenizer.json, model.safetensors\n(default $MINILM_MODEL_DIR, else the Bazel runfiles of //models:minilm_weights)")
	fs.StringVar(&m.coreMLModel, "coreml-model", "", "Core ML model (.mlmodelc or .mlpackage) for --backend coreml or auto\n(default $MINILM_COREML_MODEL)")
	fs.StringVar(&m.backend, "backend", "auto", "engine: auto (Core ML on macOS when a Core ML model is given, else CPU), cpu or coreml")
	fs.IntVar(&m.batchSize, "batch-size", embed.DefaultBatchSize, "most texts per backend call")
	fs.IntVar(&m.maxSeq, "max-seq-length", embed.DefaultMaxSeqLength, "token limit (2..512); longer texts are truncated")
	fs.IntVar(&m.workers, "workers", 0, "batches run at once (default GOMAXPROCS)")
	fs.StringVar(&m.precision, "precision", "float32", "compute precision of the CPU encoder's linear layers:\n"+
		"float32 (AVX2+FMA, else portable Go),\n"+
		"bf16 (bfloat16 weights: AVX-512 BF16 VDPBF16PS, else AVX2+FMA converting; about 1/2 the weight bytes),\n"+
		"int8 (int8 weights per channel, activations per token: AVX-512 VNNI VPDPBUSD, else AVX-VNNI, else AVX2; about 1/4 the weight bytes).\n"+
		"CPU backend only: with --backend auto it selects the CPU; with --backend coreml use a compressed Core ML variant instead")
}

// validate checks the flag values, before any input is read or model loaded.
func (m *modelFlags) validate() error {
	if _, err := embed.ParseEngine(m.backend); err != nil {
		return usageError{msg: "--backend: " + strings.TrimPrefix(err.Error(), "embed: ")}
	}
	if m.batchSize < 1 {
		return usageError{msg: fmt.Sprintf("--batch-size %d: need at least 1", m.batchSize)}
	}
	if m.maxSeq < 2 || m.maxSeq > embed.MaxSeqLengthLimit {
		return usageError{msg: fmt.Sprintf("--max-seq-length %d: must be 2..%d", m.maxSeq, embed.MaxSeqLengthLimit)}
	}
	if m.workers < 0 {
		return usageError{msg: fmt.Sprintf("--workers %d: must not be negative", m.workers)}
	}
	prec, err := cpu.ParsePrecision(m.precision)
	if err != nil {
		return usageError{msg: "--precision: " + strings.TrimPrefix(err.Error(), "cpu: ")}
	}
	if engine, _ := embed.ParseEngine(m.backend); engine == embed.CoreML && prec != cpu.Float32 {
		return usageError{msg: fmt.Sprintf("--precision %v is a CPU-backend option; with --backend coreml, pass a compressed Core ML variant "+
			"(minilm_mlpackage_w8_per_channel, _w8a8, _int4_per_block32, _palettize_*) as --coreml-model", prec)}
	}
	return nil
}

// open creates the Embedder the flags describe. The CLI honours $MINILM_MODEL_DIR and
// $MINILM_COREML_MODEL where the flags are not given (the library reads no environment).
func (m *modelFlags) open(e env) (*embed.Embedder, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	engine, _ := embed.ParseEngine(m.backend)
	prec, _ := cpu.ParsePrecision(m.precision)
	opts := []embed.Option{
		embed.WithBackend(engine),
		embed.WithPrecision(prec),
		embed.WithBatchSize(m.batchSize),
		embed.WithMaxSeqLength(m.maxSeq),
		embed.WithWorkers(m.workers),
	}
	if dir := findModelDir(m.modelDir, e.getenv); dir != "" {
		opts = append(opts, embed.WithModelDir(dir))
	}
	coreML := m.coreMLModel
	if coreML == "" {
		coreML = e.getenv(embed.EnvCoreMLModel)
	}
	if coreML != "" {
		opts = append(opts, embed.WithCoreMLModel(coreML))
	}
	return embed.New(opts...)
}

// runfilesModel is the runfiles path of //models:minilm_weights in workspace minilm_coreml.
const runfilesModel = "minilm_coreml/models/minilm_weights"

// findModelDir returns the model directory to use: the flag, else $MINILM_MODEL_DIR, else
// the first of these that holds config.json:
//
//   - $RUNFILES_DIR/minilm_coreml/models/minilm_weights (bazel run, bazel test),
//   - <executable>.runfiles/minilm_coreml/models/minilm_weights, for both the path the
//     binary was started by and its resolved path (bazel-bin/... run directly),
//   - models/minilm_weights below the working directory (bazel run starts the binary in
//     its runfiles tree),
//   - bazel-bin/models/minilm_weights below the working directory (go run at the repo root
//     after `bazel build //models:minilm_weights`).
//
// It returns "" when nothing is found, leaving embed.New to explain how to get the weights.
func findModelDir(flagDir string, getenv func(string) string) string {
	if flagDir != "" {
		return flagDir
	}
	if d := getenv(embed.EnvModelDir); d != "" {
		return d
	}
	var candidates []string
	if rf := getenv("RUNFILES_DIR"); rf != "" {
		candidates = append(candidates, filepath.Join(rf, filepath.FromSlash(runfilesModel)))
	}
	if len(os.Args) > 0 {
		candidates = append(candidates, filepath.Join(os.Args[0]+".runfiles", filepath.FromSlash(runfilesModel)))
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(exe+".runfiles", filepath.FromSlash(runfilesModel)))
	}
	candidates = append(candidates,
		filepath.Join("models", "minilm_weights"),
		filepath.Join("bazel-bin", "models", "minilm_weights"))
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "config.json")); err == nil {
			return c
		}
	}
	return ""
}
