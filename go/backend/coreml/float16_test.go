package coreml

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFloat16ToFloat32Table(t *testing.T) {
	cases := []struct {
		bits uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xbc00, -1},
		{0x4000, 2},
		{0xc000, -2},
		{0x3800, 0.5},
		{0x3555, 0.333251953125},
		{0x4248, 3.140625},
		{0x7bff, 65504}, // largest finite
		{0xfbff, -65504},
		{0x0400, 1.0 / 16384},       // smallest normal, 2^-14
		{0x03ff, 1023.0 / 16777216}, // largest subnormal
		{0x0001, 1.0 / 16777216},    // smallest subnormal, 2^-24
		{0x8001, -1.0 / 16777216},
		{0x5a40, 200},
		{0xd8e8, -157},
		{0x2e66, 0.0999755859375}, // 0.1 rounded
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, c := range cases {
		got := float16ToFloat32(c.bits)
		require.Equal(t, c.want, got, "0x%04x", c.bits)
		require.Equal(t, c.want, float16Table()[c.bits], "table 0x%04x", c.bits)
	}
	negZero := float16ToFloat32(0x8000)
	require.Zero(t, negZero)
	require.True(t, math.Signbit(float64(negZero)), "-0 keeps its sign")
	for _, nan := range []uint16{0x7e00, 0x7c01, 0xfe00, 0x7fff} {
		v := float16ToFloat32(nan)
		require.True(t, v != v, "0x%04x is NaN", nan)
	}
}

// TestFloat16Exhaustive compares every finite half with the value its fields define,
// (-1)^s × 2^(e-15) × (1 + m/1024), or 2^-14 × m/1024 for subnormals, computed in float64.
func TestFloat16Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		s, e, m := h>>15, int(h>>10&0x1f), float64(h&0x3ff)
		if e == 0x1f {
			continue
		}
		var want float64
		if e == 0 {
			want = math.Ldexp(m/1024, -14)
		} else {
			want = math.Ldexp(1+m/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		got := float16ToFloat32(h)
		if float64(got) != want || float16Table()[h] != got {
			t.Fatalf("0x%04x: got %v (table %v), want %v", h, got, float16Table()[h], want)
		}
	}
}
