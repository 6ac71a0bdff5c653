// Package quantize turns float32 embeddings into the compact forms sentence-transformers
// offers in quantize_embeddings (sentence_transformers/quantization.py, v3.0.1): int8 and
// uint8 scalar quantization against per-dimension calibration ranges, and binary and
// ubinary sign bits packed eight to a byte.
//
// The arithmetic is sentence-transformers' own, in float32: for dimension d with range
// [min_d, max_d], step_d = (max_d - min_d) / 255 and
//
//	uint8: trunc((x - min_d) / step_d)
//	int8:  trunc((x - min_d) / step_d - 128)
//
// and binary packs x > 0 most significant bit first (numpy.packbits), as uint8 for ubinary
// and minus 128 as int8 for binary. Values inside the calibration range give sentence-
// transformers' results bit for bit (python/reference/make_quantized.py makes the fixture the
// tests compare with). Outside it, numpy's float-to-integer cast is undefined (it wraps on
// x86); this package saturates instead, and a dimension whose range is empty maps to the
// lowest code.
package quantize

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Precision is the numeric form of an embedding.
type Precision int

// The precisions, named as in sentence-transformers' encode(precision=...).
const (
	// Float32 keeps the embedding as it is: Dim float32 values.
	Float32 Precision = iota
	// Int8 is one signed byte per dimension, scaled to the calibration range.
	Int8
	// Uint8 is one unsigned byte per dimension, scaled to the calibration range.
	Uint8
	// Binary is one bit per dimension (x > 0), packed eight to a byte, as int8 (byte - 128).
	Binary
	// UBinary is one bit per dimension (x > 0), packed eight to a byte, as uint8.
	UBinary
)

var names = [...]string{"float32", "int8", "uint8", "binary", "ubinary"}

// String returns the sentence-transformers name of p.
func (p Precision) String() string {
	if p >= 0 && int(p) < len(names) {
		return names[p]
	}
	return fmt.Sprintf("precision(%d)", int(p))
}

// ParsePrecision accepts "float32", "int8", "uint8", "binary" or "ubinary"
// (case-insensitive).
func ParsePrecision(s string) (Precision, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return Precision(i), nil
		}
	}
	return 0, fmt.Errorf("quantize: unknown precision %q (want %s)", s, strings.Join(names[:], ", "))
}

// Scalar reports whether p needs calibration Ranges (Int8 and Uint8).
func (p Precision) Scalar() bool { return p == Int8 || p == Uint8 }

// Len is the number of bytes (or float32 values, for Float32) of one embedding of dim
// dimensions in precision p.
func (p Precision) Len(dim int) int {
	if p == Binary || p == UBinary {
		return (dim + 7) / 8
	}
	return dim
}

// Ranges are per-dimension calibration bounds for scalar quantization, sentence-
// transformers' ranges array: Min is its row 0, Max its row 1.
type Ranges struct {
	Min, Max []float32
}

// ErrNoCalibration is returned by Calibrate for an empty set of embeddings.
var ErrNoCalibration = errors.New("quantize: no calibration embeddings")

// Calibrate returns the per-dimension minimum and maximum of vecs, as sentence-transformers
// computes ranges from calibration_embeddings. Calibrate on a representative sample of the
// corpus (sentence-transformers warns below 100 embeddings), then quantize every embedding,
// queries included, with the same Ranges.
func Calibrate(vecs [][]float32) (Ranges, error) {
	if len(vecs) == 0 {
		return Ranges{}, ErrNoCalibration
	}
	dim := len(vecs[0])
	r := Ranges{Min: append([]float32(nil), vecs[0]...), Max: append([]float32(nil), vecs[0]...)}
	for i, v := range vecs[1:] {
		if len(v) != dim {
			return Ranges{}, fmt.Errorf("quantize: calibration embedding %d has %d dimensions, the first has %d", i+1, len(v), dim)
		}
		for d, x := range v {
			if x < r.Min[d] {
				r.Min[d] = x
			}
			if x > r.Max[d] {
				r.Max[d] = x
			}
		}
	}
	for d := range r.Min {
		if isBad(r.Min[d]) || isBad(r.Max[d]) {
			return Ranges{}, fmt.Errorf("quantize: calibration dimension %d is not finite", d)
		}
	}
	return r, nil
}

func isBad(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }

// Dim is the number of dimensions the ranges cover.
func (r Ranges) Dim() int { return len(r.Min) }

func (r Ranges) check(n int) error {
	if len(r.Min) != len(r.Max) {
		return fmt.Errorf("quantize: ranges have %d minima and %d maxima", len(r.Min), len(r.Max))
	}
	if len(r.Min) != n {
		return fmt.Errorf("quantize: ranges cover %d dimensions, the embedding has %d", len(r.Min), n)
	}
	return nil
}

// code is trunc((x - min) / step) in float32, as numpy computes it, saturated to [0, 255]
// (offset 0) or [-128, 127] (offset -128).
func code(x, lo, hi float32, offset float32) float32 {
	step := (hi - lo) / 255
	if !(step > 0) {
		return offset // empty or invalid range: the lowest code
	}
	v := (x-lo)/step + offset
	v = float32(math.Trunc(float64(v)))
	if !(v >= offset) { // also NaN
		return offset
	}
	if v > offset+255 {
		return offset + 255
	}
	return v
}

// Int8 writes the int8 codes of v into dst (len(v) values).
func (r Ranges) Int8(dst []int8, v []float32) error {
	if err := r.check(len(v)); err != nil {
		return err
	}
	if len(dst) < len(v) {
		return fmt.Errorf("quantize: Int8 needs %d values of room, dst has %d", len(v), len(dst))
	}
	for d, x := range v {
		dst[d] = int8(code(x, r.Min[d], r.Max[d], -128))
	}
	return nil
}

// Uint8 writes the uint8 codes of v into dst (len(v) values).
func (r Ranges) Uint8(dst []uint8, v []float32) error {
	if err := r.check(len(v)); err != nil {
		return err
	}
	if len(dst) < len(v) {
		return fmt.Errorf("quantize: Uint8 needs %d values of room, dst has %d", len(v), len(dst))
	}
	for d, x := range v {
		dst[d] = uint8(code(x, r.Min[d], r.Max[d], 0))
	}
	return nil
}

// PackBits packs the signs of v (bit set where x > 0) into dst, most significant bit first,
// (len(v)+7)/8 bytes; a final partial byte is padded with zero bits, as numpy.packbits does.
func PackBits(dst []uint8, v []float32) {
	n := (len(v) + 7) / 8
	for i := range dst[:n] {
		dst[i] = 0
	}
	for d, x := range v {
		if x > 0 {
			dst[d/8] |= 0x80 >> uint(d%8)
		}
	}
}

// PackBitsInt8 is PackBits in the Binary form: each packed byte minus 128, as int8.
func PackBitsInt8(dst []int8, v []float32) {
	n := (len(v) + 7) / 8
	u := make([]uint8, n)
	PackBits(u, v)
	for i, b := range u {
		dst[i] = int8(int(b) - 128)
	}
}

// Hamming returns the number of differing bits of two packed binary embeddings (UBinary
// form, from PackBits), the distance binary retrieval ranks by (smaller is closer).
func Hamming(a, b []uint8) int {
	if len(a) != len(b) {
		panic(fmt.Sprintf("quantize: Hamming of %d and %d bytes", len(a), len(b)))
	}
	n := 0
	for i := range a {
		n += popcount8[a[i]^b[i]]
	}
	return n
}

var popcount8 = func() (t [256]int) {
	for i := range t {
		for x := i; x != 0; x &= x - 1 {
			t[i]++
		}
	}
	return t
}()
