package pooling

import (
	"math"
	"math/big"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMeanPool(t *testing.T) {
	tests := []struct {
		name           string
		hidden         []float32
		mask           []int32
		rows, seq, dim int
		want           []float32
	}{
		{
			name:   "all tokens",
			hidden: []float32{1, 2, 3, 4},
			mask:   []int32{1, 1},
			rows:   1, seq: 2, dim: 2,
			want: []float32{2, 3},
		},
		{
			name:   "padding ignored",
			hidden: []float32{1, 2, 3, 4, 100, 100},
			mask:   []int32{1, 1, 0},
			rows:   1, seq: 3, dim: 2,
			want: []float32{2, 3},
		},
		{
			name:   "two rows different lengths",
			hidden: []float32{1, 1, 3, 3, 5, 5 /* row 1 */, 2, 4, 9, 9, 9, 9},
			mask:   []int32{1, 1, 1, 1, 0, 0},
			rows:   2, seq: 3, dim: 2,
			want: []float32{3, 3, 2, 4},
		},
		{
			name:   "no counted token gives zeros",
			hidden: []float32{7, 8},
			mask:   []int32{0},
			rows:   1, seq: 1, dim: 2,
			want: []float32{0, 0},
		},
		{
			name:   "mask values weight tokens",
			hidden: []float32{1, 4},
			mask:   []int32{2, 1},
			rows:   1, seq: 2, dim: 1,
			want: []float32{2},
		},
		{
			name: "empty batch",
			rows: 0, seq: 4, dim: 3,
			want: []float32{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]float32, tc.rows*tc.dim)
			require.NoError(t, MeanPool(out, tc.hidden, tc.mask, tc.rows, tc.seq, tc.dim))
			require.Equal(t, tc.want, out)
		})
	}
}

func TestMeanPoolErrors(t *testing.T) {
	tests := []struct {
		name           string
		out, hidden    []float32
		mask           []int32
		rows, seq, dim int
		want           string
	}{
		{"short hidden", make([]float32, 2), make([]float32, 3), make([]int32, 2), 1, 2, 2, "hidden has 3 values, want 4"},
		{"short mask", make([]float32, 2), make([]float32, 4), make([]int32, 1), 1, 2, 2, "mask has 1 values, want 2"},
		{"short out", make([]float32, 1), make([]float32, 4), make([]int32, 2), 1, 2, 2, "out has 1 values, want 2"},
		{"negative", nil, nil, nil, -1, 2, 2, "negative size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := MeanPool(tc.out, tc.hidden, tc.mask, tc.rows, tc.seq, tc.dim)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   []float32
		want []float32
	}{
		{"3-4-5", []float32{3, 4}, []float32{0.6, 0.8}},
		{"already unit", []float32{0, -1, 0}, []float32{0, -1, 0}},
		{"zero stays zero", []float32{0, 0}, []float32{0, 0}},
		// torch divides by max(norm, 1e-12): a vector shorter than that is scaled up by 1e12,
		// not to unit length.
		{"below eps", []float32{3e-13, 4e-13}, []float32{3e-13 / 1e-12, 4e-13 / 1e-12}},
		{"empty", []float32{}, []float32{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := append([]float32(nil), tc.in...)
			Normalize(v)
			require.InDeltaSlice(t, toF64(tc.want), toF64(v), 1e-7)
		})
	}
}

func TestEmbed(t *testing.T) {
	hidden := []float32{3, 0, 0, 4, 9, 9 /* row 1 */, 0, 2, 0, 2, 0, 2}
	mask := []int32{1, 1, 0, 1, 1, 1}
	vecs, err := Embed(hidden, mask, 2, 3, 2)
	require.NoError(t, err)
	require.Len(t, vecs, 2)
	require.InDeltaSlice(t, []float64{0.6, 0.8}, toF64(vecs[0]), 1e-7)
	require.InDeltaSlice(t, []float64{0, 1}, toF64(vecs[1]), 1e-7)
	_, err = Embed(hidden[:3], mask, 2, 3, 2)
	require.Error(t, err)
}

// TestFloat64AccumulationIsCloser backs the package's choice of float64 sums: for every
// channel the pooled value is at least as close to the exact mean as a float32 running sum
// (the most precise float32 order torch could use is no better than exact-then-round, which
// is what float64 accumulation yields here).
func TestFloat64AccumulationIsCloser(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, seq := range []int{1, 7, 128, 512} {
		const dim = 384
		hidden := make([]float32, seq*dim)
		for i := range hidden {
			hidden[i] = float32(rng.NormFloat64() * 3)
		}
		mask := make([]int32, seq)
		for i := range mask {
			mask[i] = 1
		}
		got := make([]float32, dim)
		require.NoError(t, MeanPool(got, hidden, mask, 1, seq, dim))
		worse32 := 0
		for c := 0; c < dim; c++ {
			exact := new(big.Float).SetPrec(200)
			var s32 float32
			for tok := 0; tok < seq; tok++ {
				v := hidden[tok*dim+c]
				exact.Add(exact, new(big.Float).SetPrec(200).SetFloat64(float64(v)))
				s32 += v
			}
			exact.Quo(exact, new(big.Float).SetPrec(200).SetInt64(int64(seq)))
			e, _ := exact.Float64()
			f32 := s32 / float32(seq)
			d64 := math.Abs(float64(got[c]) - e)
			d32 := math.Abs(float64(f32) - e)
			require.LessOrEqualf(t, d64, d32, "seq=%d channel %d: float64 path %g, float32 path %g, exact %g", seq, c, got[c], f32, e)
			if d64 < d32 {
				worse32++
			}
		}
		t.Logf("seq=%d: float32 running sum strictly worse on %d/%d channels", seq, worse32, dim)
	}
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
