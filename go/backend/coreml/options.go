package coreml

import (
	"errors"
	"fmt"
)

// Names of the model's features and its token ids, fixed by the converter.
const (
	InputIDsName      = "input_ids"
	AttentionMaskName = "attention_mask"
	OutputName        = "last_hidden_state"

	// HiddenSize is the width of one token's hidden state in all-MiniLM-L6-v2.
	HiddenSize = 384

	clsTokenID = 101 // [CLS] in the bert-base-uncased vocabulary
	sepTokenID = 102 // [SEP]
)

// ErrUnavailable is matched (errors.Is) by every error New returns when Core ML cannot run
// the model here: not darwin, built without cgo, a macOS older than the model needs, or a
// model Core ML cannot compile or load. Those errors are *UnavailableError values, whose
// Reason says which; callers should fall back to another backend.
var ErrUnavailable = errors.New("coreml: Core ML is unavailable")

// ErrClosed is returned by Forward and Prewarm after Close.
var ErrClosed = errors.New("coreml: backend is closed")

// ComputeUnits selects the processors Core ML may use. The values equal MLComputeUnits.
type ComputeUnits int

// The MLComputeUnits values. CPUAndNeuralEngine needs macOS 13.
const (
	CPUOnly            ComputeUnits = 0
	CPUAndGPU          ComputeUnits = 1
	All                ComputeUnits = 2
	CPUAndNeuralEngine ComputeUnits = 3
)

// String implements fmt.Stringer.
func (u ComputeUnits) String() string {
	switch u {
	case CPUOnly:
		return "cpuOnly"
	case CPUAndGPU:
		return "cpuAndGPU"
	case All:
		return "all"
	case CPUAndNeuralEngine:
		return "cpuAndNeuralEngine"
	}
	return fmt.Sprintf("computeUnits(%d)", int(u))
}

// ParseComputeUnits accepts the names String returns (case-sensitive).
func ParseComputeUnits(s string) (ComputeUnits, error) {
	for _, u := range []ComputeUnits{CPUOnly, CPUAndGPU, All, CPUAndNeuralEngine} {
		if u.String() == s {
			return u, nil
		}
	}
	return 0, fmt.Errorf("coreml: unknown compute units %q (want cpuOnly, cpuAndGPU, all or cpuAndNeuralEngine)", s)
}

// Option configures New.
type Option func(*config)

type config struct {
	units     ComputeUnits
	instances int
	cacheDir  string
}

func defaultConfig() config {
	return config{units: CPUAndNeuralEngine, instances: 1}
}

// WithComputeUnits sets MLModelConfiguration.computeUnits. The default is
// CPUAndNeuralEngine.
func WithComputeUnits(u ComputeUnits) Option { return func(c *config) { c.units = u } }

// WithInstances loads n copies of the model and runs up to n predictions at once. Each copy
// is used by one prediction at a time. The default is 1: the Neural Engine runs one model at a
// time anyway, and every copy costs its own memory and load time.
func WithInstances(n int) Option { return func(c *config) { c.instances = n } }

// WithCacheDir sets where compiled models of an .mlpackage are kept. The default is
// <os.UserCacheDir()>/minilm-coreml.
func WithCacheDir(dir string) Option { return func(c *config) { c.cacheDir = dir } }

func (c *config) validate() error {
	if c.instances < 1 {
		return fmt.Errorf("coreml: WithInstances(%d): need at least one instance", c.instances)
	}
	switch c.units {
	case CPUOnly, CPUAndGPU, All, CPUAndNeuralEngine:
	default:
		return fmt.Errorf("coreml: invalid %v", c.units)
	}
	return nil
}
