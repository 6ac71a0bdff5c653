package cpu

import (
	"context"
	"fmt"
	"math/rand"
	"runtime"
	"testing"
	"time"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/internal/kernels"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/plan"
)

// BenchmarkSGEMM times the encoder's linear-layer shapes (M tokens × K inputs → N outputs)
// on all GOMAXPROCS threads and reports GFLOP/s.
func BenchmarkSGEMM(b *testing.B) {
	shapes := []struct {
		name string
		k, n int
	}{{"qkv", 384, 1152}, {"out", 384, 384}, {"up", 384, 1536}, {"down", 1536, 384}}
	sets := []kernels.Set{kernels.Select(true)}
	if best := kernels.Select(false); best.Name() != "go" {
		sets = append(sets, best)
	}
	for _, ks := range sets {
		ks := ks
		for _, m := range []int{16, 128, 256, 1024} {
			for _, s := range shapes {
				if ks.Name() == "go" && m > 128 {
					continue
				}
				b.Run(fmt.Sprintf("%s/M=%d/%s_K=%d_N=%d", ks.Name(), m, s.name, s.k, s.n), func(b *testing.B) {
					rng := rand.New(rand.NewSource(1))
					p := kernels.NewPool(runtime.GOMAXPROCS(0))
					defer p.Close()
					pb := kernels.NewPacked(s.n, s.k)
					pb.FillNK(randSlice(rng, s.n*s.k), s.k)
					g := &kernels.GemmArgs{C: make([]float32, m*s.n), LDC: s.n, A: randSlice(rng, m*s.k), LDA: s.k, M: m,
						B: pb, Bias: kernels.PadBias(randSlice(rng, s.n)), K: &ks}
					b.ReportAllocs()
					b.ResetTimer()
					start, cpu0 := time.Now(), processCPU()
					for i := 0; i < b.N; i++ {
						p.Gemm(g)
					}
					b.ReportMetric(2*float64(m*s.n*s.k)*float64(b.N)/time.Since(start).Seconds()/1e9, "GFLOP/s")
					reportCPU(b, cpu0, 2*float64(m*s.n*s.k))
				})
			}
		}
	}
}

// BenchmarkAttention times one layer's attention (all heads) for rows×seq real tokens.
func BenchmarkAttention(b *testing.B) {
	for _, sz := range []struct{ rows, seq int }{{32, 16}, {32, 32}, {1, 128}, {1, 256}, {8, 256}} {
		b.Run(fmt.Sprintf("%dx%d", sz.rows, sz.seq), func(b *testing.B) {
			const d, heads = 384, 12
			rng := rand.New(rand.NewSource(1))
			be := &Backend{cfg: &config{HiddenSize: d, IntermediateSize: 1536}, heads: heads, headD: d / heads, arenas: make(chan *arena, 1),
				pool: kernels.NewPool(runtime.GOMAXPROCS(0)), k: kernels.Select(false)}
			defer be.pool.Close()
			tokens := sz.rows * sz.seq
			a := be.getArena(tokens)
			copy(a.qkv, randSlice(rng, len(a.qkv)))
			spans := make([]seqSpan, sz.rows)
			for r := range spans {
				spans[r] = seqSpan{row: r, start: r * sz.seq, pos: make([]int32, sz.seq), keys: sz.seq}
			}
			// FLOPs: QKᵀ and PV, 2·L²·d each per sequence.
			flop := float64(sz.rows) * 4 * float64(sz.seq*sz.seq*d)
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), processCPU()
			for i := 0; i < b.N; i++ {
				be.attention(a, spans)
			}
			b.ReportMetric(flop*float64(b.N)/time.Since(start).Seconds()/1e9, "GFLOP/s")
			reportCPU(b, cpu0, flop)
		})
	}
}

// BenchmarkForward times the whole encoder on rows texts of seq real tokens each.
func BenchmarkForward(b *testing.B) { benchForward(b, sharedBackend(b)) }

// BenchmarkForwardBF16 is BenchmarkForward with bfloat16 weights.
func BenchmarkForwardBF16(b *testing.B) {
	be, err := New(testmodel.ModelDir(b), WithPrecision(BF16))
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	benchForward(b, be)
}

func benchForward(b *testing.B, be *Backend) {
	for _, sz := range []struct{ rows, seq int }{{1, 16}, {32, 16}, {32, 32}, {1, 128}, {32, 128}, {1, 235}, {8, 235}} {
		b.Run(fmt.Sprintf("%dx%d", sz.rows, sz.seq), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			n := sz.rows * sz.seq
			in := &backend.Input{Shape: plan.Shape{Batch: sz.rows, Seq: sz.seq}, Rows: sz.rows,
				IDs: make([]int32, n), Mask: make([]int32, n), TypeIDs: make([]int32, n)}
			for i := range in.IDs {
				in.IDs[i] = int32(1000 + rng.Intn(28000))
				in.Mask[i] = 1
			}
			out := make([]float32, n*be.HiddenSize())
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), processCPU()
			for i := 0; i < b.N; i++ {
				if err := be.Forward(context.Background(), in, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(sz.rows*b.N)/time.Since(start).Seconds(), "texts/s")
			reportCPU(b, cpu0, 0)
		})
	}
}

// reportCPU reports CPU milliseconds per op (all threads) and, given the FLOPs of one op,
// GFLOP per CPU-second: a measure of the code's efficiency that other processes competing
// for the cores disturb much less than wall-clock rates.
func reportCPU(b *testing.B, cpu0 float64, flop float64) {
	cpu := processCPU() - cpu0
	if cpu <= 0 {
		return
	}
	b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
	if flop > 0 {
		b.ReportMetric(flop*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}
