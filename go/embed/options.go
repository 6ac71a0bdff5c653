package embed

import (
	"fmt"
	"strings"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/backend/cpu"
)

// Engine selects the execution engine of an Embedder.
type Engine int

const (
	// Auto uses Core ML on darwin when a compiled Core ML model is available, and the
	// pure-Go CPU encoder otherwise.
	Auto Engine = iota
	// CPU is the pure-Go encoder; it runs everywhere and needs model.safetensors.
	CPU
	// CoreML runs the converted model with Apple Core ML; it needs darwin and a Core ML
	// model (see WithCoreMLModel).
	CoreML
)

// String implements fmt.Stringer.
func (e Engine) String() string {
	switch e {
	case Auto:
		return "auto"
	case CPU:
		return "cpu"
	case CoreML:
		return "coreml"
	}
	return fmt.Sprintf("engine(%d)", int(e))
}

// ParseEngine accepts "auto", "cpu" or "coreml" (case-insensitive).
func ParseEngine(s string) (Engine, error) {
	for _, e := range []Engine{Auto, CPU, CoreML} {
		if strings.EqualFold(s, e.String()) {
			return e, nil
		}
	}
	return 0, fmt.Errorf("embed: unknown backend %q (want auto, cpu or coreml)", s)
}

// Defaults and limits of the options.
const (
	// DefaultBatchSize is the most texts one backend call holds, as in
	// SentenceTransformer.encode.
	DefaultBatchSize = 32
	// DefaultMaxSeqLength is the token limit sentence-transformers uses for
	// all-MiniLM-L6-v2 (sentence_bert_config.json); longer texts are truncated.
	DefaultMaxSeqLength = 256
	// MaxSeqLengthLimit is the model's position-embedding limit.
	MaxSeqLengthLimit = 512
	// EnvModelDir names the environment variable FromEnv reads the model directory from.
	EnvModelDir = "MINILM_MODEL_DIR"
	// EnvCoreMLModel names the environment variable FromEnv reads the Core ML model from.
	EnvCoreMLModel = "MINILM_COREML_MODEL"
)

// Option configures New.
type Option func(*config)

type config struct {
	engine      Engine
	modelDir    string
	coreMLModel string
	batchSize   int
	maxSeq      int
	workers     int
	custom      backend.Backend
	fromEnv     bool
	precision   cpu.Precision
}

// WithBackend selects the engine; the default is Auto.
func WithBackend(e Engine) Option { return func(c *config) { c.engine = e } }

// WithModelDir sets the directory holding config.json, tokenizer.json and
// model.safetensors. It has no default: New fails with ErrNoModelDir without it (or FromEnv).
func WithModelDir(dir string) Option { return func(c *config) { c.modelDir = dir } }

// WithCoreMLModel sets the Core ML model (.mlmodelc or .mlpackage) the CoreML and Auto
// engines use; without it Auto runs the CPU encoder. The tokenizer still comes from the
// model directory.
func WithCoreMLModel(path string) Option { return func(c *config) { c.coreMLModel = path } }

// WithPrecision sets the compute precision of the CPU encoder's linear layers: cpu.Float32
// (the default), cpu.BF16 (bfloat16 weights, float32 accumulation) or cpu.Int8 (int8
// weights per output channel, activations quantized per token, int32 accumulation). See
// cpu.Precision for the instructions each uses.
//
// It applies to the CPU backend only. With WithBackend(CoreML), a precision other than
// float32 is an error: Core ML's low-precision forms are the compressed model variants
// (//models:minilm_mlpackage_w8_per_channel, _w8a8, _int4_per_block32, _palettize_*),
// passed with WithCoreMLModel. With Auto, a precision other than float32 selects the CPU
// backend even when a Core ML model is given, and Backend says so, e.g.
// "cpu(int8) (coreml not used: precision int8 runs on the CPU backend)". With
// WithCustomBackend it is an error, since the Embedder does not open that engine.
func WithPrecision(p cpu.Precision) Option { return func(c *config) { c.precision = p } }

// WithBatchSize sets the most texts one backend call holds; the default is 32. The backend's
// shapes may cap it further.
func WithBatchSize(n int) Option { return func(c *config) { c.batchSize = n } }

// WithMaxSeqLength sets the token limit, special tokens included, beyond which texts are
// truncated: 2 to 512, default 256 as in sentence-transformers.
func WithMaxSeqLength(n int) Option { return func(c *config) { c.maxSeq = n } }

// WithWorkers sets how many batches run at once within one call (and how many goroutines
// tokenize). The default, 0, means GOMAXPROCS, for every engine: the CPU encoder shares one
// pool of GOMAXPROCS threads among the batches in flight, and Core ML serializes predictions
// per model instance, so more workers overlap padding and pooling with the engine's work.
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// WithCustomBackend makes the Embedder run a caller-provided engine instead of opening
// one; WithBackend and WithCoreMLModel are then ignored. The model directory still provides
// the tokenizer. The Embedder owns b and closes it in Close.
func WithCustomBackend(b backend.Backend) Option { return func(c *config) { c.custom = b } }

// FromEnv takes the model directory from $MINILM_MODEL_DIR and the Core ML model from
// $MINILM_COREML_MODEL, where WithModelDir or WithCoreMLModel do not set them, wherever it
// stands among the options. New reads the environment only with this option, so that a
// library's behaviour never changes with a variable its caller did not choose to honour.
func FromEnv() Option { return func(c *config) { c.fromEnv = true } }

// resolveEnv applies FromEnv after all options, with getenv standing for os.Getenv.
func (c *config) resolveEnv(getenv func(string) string) {
	if !c.fromEnv {
		return
	}
	if c.modelDir == "" {
		c.modelDir = getenv(EnvModelDir)
	}
	if c.coreMLModel == "" {
		c.coreMLModel = getenv(EnvCoreMLModel)
	}
}

func (c *config) validate() error {
	switch c.engine {
	case Auto, CPU, CoreML:
	default:
		return fmt.Errorf("embed: invalid %v", c.engine)
	}
	if _, err := cpu.ParsePrecision(c.precision.String()); err != nil {
		return fmt.Errorf("embed: WithPrecision: invalid %v", c.precision)
	}
	if c.precision != cpu.Float32 {
		if c.custom != nil {
			return fmt.Errorf("embed: WithPrecision(%v) applies to the CPU backend; it cannot change a custom backend", c.precision)
		}
		if c.engine == CoreML {
			return fmt.Errorf("embed: WithPrecision(%v) applies to the CPU backend; for Core ML, pass a compressed model variant "+
				"(minilm_mlpackage_w8_per_channel, _w8a8, _int4_per_block32, _palettize_*) with WithCoreMLModel", c.precision)
		}
	}
	if c.batchSize < 1 {
		return fmt.Errorf("embed: WithBatchSize(%d): need at least 1", c.batchSize)
	}
	if c.maxSeq < 2 || c.maxSeq > MaxSeqLengthLimit {
		return fmt.Errorf("embed: WithMaxSeqLength(%d): must be 2..%d (room for [CLS] and [SEP])", c.maxSeq, MaxSeqLengthLimit)
	}
	if c.workers < 0 {
		return fmt.Errorf("embed: WithWorkers(%d): must not be negative", c.workers)
	}
	return nil
}

func defaultConfig() config {
	return config{engine: Auto, batchSize: DefaultBatchSize, maxSeq: DefaultMaxSeqLength}
}
