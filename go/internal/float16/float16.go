// Package float16 converts between IEEE 754 binary16 ("half") and float32.
//
// It is the one home of half-precision arithmetic in this repository: the safetensors
// reader, the .mlpackage reader and MIL executor, and the Core ML backend's output decoder
// all use it. Every binary16 value, subnormals, infinities and NaN payloads included, is
// exactly representable in float32, so ToFloat32 is exact; FromFloat32 rounds to nearest,
// ties to even, as IEEE 754 (and Core ML's float16 arithmetic) does.
package float16

import (
	"math"
	"sync"
)

// ToFloat32 converts binary16 bits to float32, exactly. NaNs keep their payload.
func ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign) // ±0
		}
		// Subnormal: mant × 2^-24, exact in float32.
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13) // ±Inf or NaN
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// FromFloat32 rounds f to the nearest binary16 value (ties to even). Values beyond the
// largest half (65504) round to ±Inf as IEEE 754 requires; NaN stays NaN.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half (or zero): shift the implicit-1 mantissa right.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, up to Inf: correct
	}
	return sign | uint16(half)
}

// Round rounds f to the nearest binary16 value and returns it as float32.
func Round(f float32) float32 { return ToFloat32(FromFloat32(f)) }

var (
	tableOnce sync.Once
	table     *[1 << 16]float32
)

// Table returns a lookup table of all 65,536 conversions (256 KiB, built once on first use),
// for decoding large arrays: Table()[h] == ToFloat32(h).
func Table() *[1 << 16]float32 {
	tableOnce.Do(func() {
		t := new([1 << 16]float32)
		for i := range t {
			t[i] = ToFloat32(uint16(i))
		}
		table = t
	})
	return table
}
