package vecmath

import (
	"math"
	"testing"
)

func TestCosine(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct {
		name string
		a, b []float32
		want float64 // NaN: want NaN
	}{
		{"identical", []float32{1, 2, 3}, []float32{1, 2, 3}, 1},
		{"scaled", []float32{1, 2, 3}, []float32{2, 4, 6}, 1},
		{"opposite", []float32{1, -2}, []float32{-1, 2}, -1},
		{"orthogonal", []float32{1, 0}, []float32{0, 5}, 0},
		// (3,4)·(4,3) = 24, |a||b| = 25.
		{"general", []float32{3, 4}, []float32{4, 3}, 0.96},
		{"zero vector", []float32{0, 0}, []float32{1, 2}, 0},
		{"empty", nil, nil, 0},
		{"NaN", []float32{1, nan}, []float32{1, 2}, math.NaN()},
		{"infinity", []float32{1, inf}, []float32{1, 2}, math.NaN()},
	} {
		got := Cosine(c.a, c.b)
		if math.IsNaN(c.want) {
			if !math.IsNaN(got) {
				t.Errorf("%s: Cosine = %v, want NaN", c.name, got)
			}
			continue
		}
		if math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%s: Cosine = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestCosineFloat64 checks that a difference below float32's resolution near 1 is kept.
func TestCosineFloat64(t *testing.T) {
	a := []float32{1, 0}
	b := []float32{1, 1e-4} // cos = 1/sqrt(1+1e-8) ≈ 1 - 5e-9, which float32 rounds to 1
	got := Cosine(a, b)
	want := 1 / math.Sqrt(1+float64(float32(1e-4))*float64(float32(1e-4)))
	if got == 1 || math.Abs(got-want) > 1e-15 {
		t.Errorf("Cosine = %.17g, want %.17g", got, want)
	}
}

func TestCosineLengthMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for vectors of different lengths")
		}
	}()
	Cosine([]float32{1}, []float32{1, 2})
}
