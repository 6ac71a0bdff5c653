package float16

import (
	"math"
	"testing"
)

func TestToFloat32Cases(t *testing.T) {
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
		if got := ToFloat32(c.bits); got != c.want {
			t.Errorf("ToFloat32(%#04x) = %v, want %v", c.bits, got, c.want)
		}
		if got := Table()[c.bits]; got != c.want {
			t.Errorf("Table()[%#04x] = %v, want %v", c.bits, got, c.want)
		}
	}
	negZero := ToFloat32(0x8000)
	if negZero != 0 || !math.Signbit(float64(negZero)) {
		t.Errorf("ToFloat32(0x8000) = %v, want -0", negZero)
	}
	for _, nan := range []uint16{0x7e00, 0x7c01, 0xfe00, 0x7fff} {
		if v := ToFloat32(nan); v == v {
			t.Errorf("ToFloat32(%#04x) = %v, want NaN", nan, v)
		}
	}
}

// TestToFloat32Exhaustive compares every finite half with the value its fields define,
// (-1)^s × 2^(e-15) × (1 + m/1024), or 2^-14 × m/1024 for subnormals, computed in float64.
func TestToFloat32Exhaustive(t *testing.T) {
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
		got := ToFloat32(h)
		if float64(got) != want || Table()[h] != got {
			t.Fatalf("%#04x: got %v (table %v), want %v", h, got, Table()[h], want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	// Every half value survives the round trip (NaNs stay NaN).
	for h := 0; h < 1<<16; h++ {
		f := ToFloat32(uint16(h))
		back := FromFloat32(f)
		if f != f {
			if b := ToFloat32(back); b == b {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
}

func TestRound(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want float32
	}{
		{65504, 65504},
		{65519, 65504},                // below the midpoint to 2^16: rounds down
		{65520, float32(math.Inf(1))}, // the midpoint rounds to even = overflow
		{-3.4028235e38, float32(math.Inf(-1))},
		{1 + 1.0/2048, 1},                              // tie between 1 and 1+2^-10: even is 1
		{1 + 3.0/2048, 1 + 2.0/1024},                   // tie: even is 1+2^-9
		{5.960464477539063e-08, 5.960464477539063e-08}, // smallest subnormal
		{2.9802322387695312e-08, 0},                    // half of it: tie to even (0)
		{-10000, -10000},
		{0.1, 0.0999755859375},
	} {
		if got := Round(c.in); got != c.want {
			t.Errorf("Round(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
