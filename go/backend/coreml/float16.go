package coreml

import (
	"math"
	"sync"
)

// float16ToFloat32 converts an IEEE 754 binary16 value to float32. Every binary16 value,
// including subnormals, infinities and NaNs (payload kept), is exactly representable.
func float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign) // ±0
		}
		// Subnormal: mant * 2^-24, exact in float32.
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

var (
	f16TableOnce sync.Once
	f16Table     *[1 << 16]float32
)

// float16Table returns a lookup table of all 65536 conversions (256 KiB, built once).
func float16Table() *[1 << 16]float32 {
	f16TableOnce.Do(func() {
		t := new([1 << 16]float32)
		for i := range t {
			t[i] = float16ToFloat32(uint16(i))
		}
		f16Table = t
	})
	return f16Table
}
