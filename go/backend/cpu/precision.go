package cpu

import (
	"fmt"
	"strings"
)

// Precision is the number format the encoder's linear layers compute in. Whatever the
// precision, embeddings, softmax, LayerNorm, GELU and the residual stream stay float32;
// only the weights of the linear layers (and, for Int8, their input activations) change
// format. The zero value is Float32.
type Precision int

const (
	// Float32 keeps the weights as float32 (about 42 MB for the encoder's linear layers)
	// and uses the AVX2+FMA SGEMM (portable Go without AVX2).
	Float32 Precision = iota
	// BF16 stores the weights as bfloat16 (about 21 MB) and accumulates in float32:
	// VDPBF16PS where the CPU has AVX-512 BF16, a converting FMA path elsewhere.
	BF16
	// Int8 quantizes the weights per output channel (symmetric int8, about 11 MB) at load
	// and each activation row dynamically (per token) before every linear layer,
	// accumulating in int32: VPDPBUSD with AVX-512 VNNI (or AVX-VNNI), an AVX2 path without
	// either, portable Go elsewhere.
	Int8
)

// String returns "float32", "bf16" or "int8".
func (p Precision) String() string {
	switch p {
	case Float32:
		return "float32"
	case BF16:
		return "bf16"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("precision(%d)", int(p))
}

// ParsePrecision accepts "float32", "bf16" or "int8" (case-insensitive; "fp32" and
// "bfloat16" too).
func ParsePrecision(s string) (Precision, error) {
	switch strings.ToLower(s) {
	case "float32", "fp32":
		return Float32, nil
	case "bf16", "bfloat16":
		return BF16, nil
	case "int8":
		return Int8, nil
	}
	return 0, fmt.Errorf("cpu: unknown precision %q (want float32, bf16 or int8)", s)
}

// WithPrecision sets the compute precision of the linear layers (default Float32).
func WithPrecision(p Precision) Option { return func(o *options) { o.precision = p } }

// checkPrecision reports whether New can build an encoder in precision p.
func checkPrecision(p Precision) error {
	switch p {
	case Float32, BF16, Int8:
		return nil
	}
	return fmt.Errorf("cpu: invalid %v", p)
}
