package cpu

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/internal/kernels"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
	"github.com/minilm-coreml/minilm/go/plan"
	"github.com/minilm-coreml/minilm/go/pooling"
)

// TestMain says how many tests were skipped for want of the model directory.
func TestMain(m *testing.M) { os.Exit(testmodel.Main(m)) }

const fixturePath = "testdata/fixtures/encoder_reference.json"

type refCase struct {
	Text      string    `json:"text"`
	IDs       []int32   `json:"ids"`
	Mask      []int32   `json:"mask"`
	TypeIDs   []int32   `json:"type_ids"`
	Embedding []float32 `json:"embedding"`
	HiddenCLS []float32 `json:"hidden_cls"`
}

type refFixture struct {
	Cases []refCase `json:"cases"`
}

func loadFixture(t testing.TB) *refFixture {
	b, err := os.ReadFile(testmodel.RepoFile(t, fixturePath))
	require.NoError(t, err)
	var f refFixture
	require.NoError(t, json.Unmarshal(b, &f))
	require.NotEmpty(t, f.Cases)
	return &f
}

var (
	sharedOnce sync.Once
	shared     *Backend
	sharedErr  error
)

// sharedBackend loads the model once per test binary.
func sharedBackend(t testing.TB) *Backend {
	dir := testmodel.ModelDir(t)
	sharedOnce.Do(func() { shared, sharedErr = New(dir) })
	require.NoError(t, sharedErr)
	return shared
}

// batchInput pads the cases into one batch of shape rows×seq.
func batchInput(cases []refCase, seq int) *backend.Input {
	rows := len(cases)
	in := &backend.Input{
		Shape: plan.Shape{Batch: rows, Seq: seq}, Rows: rows,
		IDs: make([]int32, rows*seq), Mask: make([]int32, rows*seq), TypeIDs: make([]int32, rows*seq),
	}
	for r, c := range cases {
		copy(in.IDs[r*seq:], c.IDs)
		copy(in.Mask[r*seq:], c.Mask)
		copy(in.TypeIDs[r*seq:], c.TypeIDs)
	}
	return in
}

func embedBatch(t testing.TB, b *Backend, cases []refCase, seq int) [][]float32 {
	in := batchInput(cases, seq)
	d := b.HiddenSize()
	out := make([]float32, in.Rows*seq*d)
	require.NoError(t, b.Forward(context.Background(), in, out))
	vecs, err := pooling.Embed(out, in.Mask, in.Rows, seq, d)
	require.NoError(t, err)
	return vecs
}

func maxLen(cases []refCase) int {
	n := 0
	for _, c := range cases {
		if len(c.IDs) > n {
			n = len(c.IDs)
		}
	}
	return n
}

// TestParity compares each text, encoded alone, with sentence-transformers.
func TestParity(t *testing.T) {
	b := sharedBackend(t)
	fx := loadFixture(t)
	worst := 1.0
	var worstHidden float64
	for _, c := range fx.Cases {
		vec := embedBatch(t, b, []refCase{c}, len(c.IDs))[0]
		cos := vecmath.Cosine(vec, c.Embedding)
		if cos < worst {
			worst = cos
		}
		require.GreaterOrEqualf(t, cos, 0.99999, "text %q (%d tokens)", c.Text, len(c.IDs))
		// The [CLS] hidden state, before pooling.
		in := batchInput([]refCase{c}, len(c.IDs))
		out := make([]float32, len(c.IDs)*b.HiddenSize())
		require.NoError(t, b.Forward(context.Background(), in, out))
		for j, want := range c.HiddenCLS {
			d := math.Abs(float64(out[j] - want))
			if d > worstHidden {
				worstHidden = d
			}
			require.InDeltaf(t, want, out[j], 2e-4, "text %q: hidden[0][%d]", c.Text, j)
		}
	}
	t.Logf("%s kernels: worst 1-cosine to sentence-transformers %.3g, worst |Δ| of [CLS] hidden state %.3g", b.ISA(), 1-worst, worstHidden)
}

// TestPaddingInvariance checks that batching texts of different lengths together, in any
// shape, gives the vectors of encoding each alone.
func TestPaddingInvariance(t *testing.T) {
	b := sharedBackend(t)
	fx := loadFixture(t)
	alone := make([][]float32, len(fx.Cases))
	for i, c := range fx.Cases {
		alone[i] = embedBatch(t, b, []refCase{c}, len(c.IDs))[0]
	}
	// Everything in one batch padded to the longest, plus extra padding columns.
	for _, extra := range []int{0, 5} {
		vecs := embedBatch(t, b, fx.Cases, maxLen(fx.Cases)+extra)
		for i := range fx.Cases {
			require.GreaterOrEqualf(t, vecmath.Cosine(vecs[i], alone[i]), 0.9999999, "text %q batched (extra padding %d)", fx.Cases[i].Text, extra)
			require.InDeltaSlicef(t, f64(alone[i]), f64(vecs[i]), 1e-6, "text %q batched", fx.Cases[i].Text)
		}
	}
	// Encoding in chunks of whole rows (as a batch over the chunk limit is) changes nothing.
	seq := maxLen(fx.Cases)
	in := batchInput(fx.Cases, seq)
	whole := make([]float32, in.Rows*seq*b.HiddenSize())
	require.NoError(t, b.Forward(context.Background(), in, whole))
	chunked := *b
	chunked.chunk = 300
	chunked.arenas = make(chan *arena, 1)
	parts := make([]float32, len(whole))
	require.NoError(t, chunked.Forward(context.Background(), in, parts))
	require.Equal(t, whole, parts)

	// Rows beyond Rows are ignored: the first Rows rows come out as in a batch of exactly
	// Rows, and nothing is written past them. The unused rows here even hold a real text.
	seq = maxLen(fx.Cases[:3])
	exact := batchInput(fx.Cases[:3], seq)
	want := make([]float32, 3*seq*b.HiddenSize())
	require.NoError(t, b.Forward(context.Background(), exact, want))
	in = batchInput(fx.Cases[:3], seq)
	in.Shape.Batch = 8
	row0 := batchInput(fx.Cases[:1], seq)
	for r := 3; r < 8; r++ {
		in.IDs = append(in.IDs, row0.IDs...)
		in.Mask = append(in.Mask, row0.Mask...)
		in.TypeIDs = append(in.TypeIDs, row0.TypeIDs...)
	}
	const sentinel = float32(-12345)
	out := make([]float32, 8*seq*b.HiddenSize())
	for i := range out {
		out[i] = sentinel
	}
	require.NoError(t, b.Forward(context.Background(), in, out))
	require.Equal(t, want, out[:len(want)], "rows 0-2 with 5 unused rows after them")
	for i, v := range out[len(want):] {
		if v != sentinel {
			t.Fatalf("Forward wrote %v at value %d past its %d rows", v, i, in.Rows)
		}
	}
}

func TestPureGoMatchesAssembly(t *testing.T) {
	dir := testmodel.ModelDir(t)
	if best := kernels.Select(false); best.Name() == "go" {
		t.Skip("no assembly kernels on this CPU")
	}
	fast := sharedBackend(t)
	slow, err := New(dir, withPureGo(), WithThreads(2))
	require.NoError(t, err)
	defer slow.Close()
	require.Equal(t, "go", slow.ISA())
	fx := loadFixture(t)
	cases := fx.Cases[:6]
	seq := maxLen(cases)
	a := embedBatch(t, fast, cases, seq)
	g := embedBatch(t, slow, cases, seq)
	for i := range cases {
		require.GreaterOrEqual(t, vecmath.Cosine(a[i], g[i]), 0.9999999)
	}
}

func TestConcurrentForward(t *testing.T) {
	b := sharedBackend(t)
	fx := loadFixture(t)
	want := make([][]float32, len(fx.Cases))
	for i, c := range fx.Cases {
		want[i] = embedBatch(t, b, []refCase{c}, len(c.IDs))[0]
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		g := g
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 3; it++ {
				i := (g*7 + it*3) % (len(fx.Cases) - 1)
				cases := fx.Cases[i : i+2]
				seq := maxLen(cases)
				in := batchInput(cases, seq)
				out := make([]float32, 2*seq*b.HiddenSize())
				if err := b.Forward(context.Background(), in, out); err != nil {
					errs <- err
					return
				}
				vecs, err := pooling.Embed(out, in.Mask, 2, seq, b.HiddenSize())
				if err != nil {
					errs <- err
					return
				}
				for j := range vecs {
					if c := vecmath.Cosine(vecs[j], want[i+j]); c < 0.9999999 {
						t.Errorf("goroutine %d: text %q cosine %v", g, cases[j].Text, c)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestForwardCancelled(t *testing.T) {
	b := sharedBackend(t)
	fx := loadFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := batchInput(fx.Cases[:2], maxLen(fx.Cases[:2]))
	err := b.Forward(ctx, in, make([]float32, 2*in.Shape.Seq*b.HiddenSize()))
	require.ErrorIs(t, err, context.Canceled)
}

func TestForwardBadInput(t *testing.T) {
	b := sharedBackend(t)
	d := b.HiddenSize()
	ok := func() *backend.Input {
		return &backend.Input{Shape: plan.Shape{Batch: 1, Seq: 3}, Rows: 1,
			IDs: []int32{101, 7592, 102}, Mask: []int32{1, 1, 1}, TypeIDs: []int32{0, 0, 0}}
	}
	tests := []struct {
		name   string
		mutate func(in *backend.Input)
		outLen int
		want   string
	}{
		{"id out of vocabulary", func(in *backend.Input) { in.IDs[1] = 40000 }, 3 * d, "outside the vocabulary"},
		{"negative id", func(in *backend.Input) { in.IDs[1] = -1 }, 3 * d, "outside the vocabulary"},
		{"bad type id", func(in *backend.Input) { in.TypeIDs[2] = 2 }, 3 * d, "token type 2"},
		{"short ids", func(in *backend.Input) { in.IDs = in.IDs[:2] }, 3 * d, "need 3 values"},
		{"short out", func(in *backend.Input) {}, 3*d - 1, "output holds"},
		{"rows beyond batch", func(in *backend.Input) { in.Rows = 2 }, 6 * d, "2 rows in shape 1x3"},
		{"seq too long", func(in *backend.Input) { in.Shape.Seq = 513 }, 3 * d, "exceeds the maximum 512"},
		{"batch too big", func(in *backend.Input) { in.Shape.Batch = 65 }, 3 * d, "batch 65 exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok()
			tc.mutate(in)
			require.ErrorContains(t, b.Forward(context.Background(), in, make([]float32, tc.outLen)), tc.want)
		})
	}
	// Padded ids are not looked up.
	in := ok()
	in.IDs[2], in.Mask[2] = 99999, 0
	require.NoError(t, b.Forward(context.Background(), in, make([]float32, 3*d)))
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestFixedShapesSameVectors checks that computing the padding too (the cost model of a
// fixed-shape engine) changes no vector, and that it refuses rows that are not right-padded.
func TestFixedShapesSameVectors(t *testing.T) {
	fx := loadFixture(t)
	fixed, err := New(testmodel.ModelDir(t), withFixedShapes())
	require.NoError(t, err)
	defer fixed.Close()
	cases := fx.Cases
	if len(cases) > 8 {
		cases = cases[:8]
	}
	seq := maxLen(cases) + 9 // real padding on every row
	got := embedBatch(t, fixed, cases, seq)
	for i, c := range cases {
		require.GreaterOrEqualf(t, vecmath.Cosine(got[i], c.Embedding), 0.99999, "text %q", c.Text)
	}

	in := batchInput(cases[:1], seq)
	in.Mask[0] = 0 // a hole before real tokens
	out := make([]float32, seq*fixed.HiddenSize())
	require.ErrorContains(t, fixed.Forward(context.Background(), in, out), "not right-padded")
}
