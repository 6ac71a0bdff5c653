// Package pooling turns the encoder's last hidden state into sentence embeddings exactly as
// sentence-transformers does for all-MiniLM-L6-v2: mean pooling over the attention mask, then
// L2 normalization.
//
// sentence-transformers computes, per text, sum(h*mask)/clamp(sum(mask), min=1e-9) in float32,
// then torch.nn.functional.normalize: x / max(||x||, 1e-12). Here sums are accumulated in
// float64 and rounded once to float32, which is never farther from the exact value than torch's
// float32 reduction (TestFloat64AccumulationIsCloser checks this); the results agree with torch
// to within a few float32 ulps.
package pooling

import (
	"fmt"
	"math"
)

const (
	// MaskClamp is the lower bound sentence-transformers puts on the token count.
	MaskClamp = 1e-9
	// NormEps is the lower bound torch.nn.functional.normalize puts on the norm.
	NormEps = 1e-12
)

// MeanPool writes the masked mean of each row's token states into out.
//
// hidden holds rows*seq*dim values (row, token, channel), mask rows*seq values; a token counts
// when its mask is nonzero (weighted by the mask value, like sentence-transformers). out holds
// rows*dim values. A row without any counted token yields zeros.
func MeanPool(out, hidden []float32, mask []int32, rows, seq, dim int) error {
	if rows < 0 || seq < 0 || dim < 0 {
		return fmt.Errorf("pooling: negative size rows=%d seq=%d dim=%d", rows, seq, dim)
	}
	if len(hidden) < rows*seq*dim {
		return fmt.Errorf("pooling: hidden has %d values, want %d (rows=%d seq=%d dim=%d)", len(hidden), rows*seq*dim, rows, seq, dim)
	}
	if len(mask) < rows*seq {
		return fmt.Errorf("pooling: mask has %d values, want %d (rows=%d seq=%d)", len(mask), rows*seq, rows, seq)
	}
	if len(out) < rows*dim {
		return fmt.Errorf("pooling: out has %d values, want %d (rows=%d dim=%d)", len(out), rows*dim, rows, dim)
	}
	acc := make([]float64, dim)
	for r := 0; r < rows; r++ {
		for c := range acc {
			acc[c] = 0
		}
		var count float64
		for t := 0; t < seq; t++ {
			m := mask[r*seq+t]
			if m == 0 {
				continue
			}
			w := float64(m)
			count += w
			h := hidden[(r*seq+t)*dim : (r*seq+t+1)*dim]
			if m == 1 {
				for c, v := range h {
					acc[c] += float64(v)
				}
			} else {
				for c, v := range h {
					acc[c] += w * float64(v)
				}
			}
		}
		// torch divides the float32 sum by the float32 clamped count.
		den := float32(count)
		if den < MaskClamp {
			den = MaskClamp
		}
		o := out[r*dim : (r+1)*dim]
		for c := range o {
			o[c] = float32(acc[c] / float64(den))
		}
	}
	return nil
}

// Normalize scales v in place to unit L2 norm, as torch.nn.functional.normalize(p=2, dim=-1):
// v / max(||v||, 1e-12). A zero vector stays zero.
func Normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(ss))
	if n < NormEps {
		n = NormEps
	}
	for i := range v {
		v[i] /= n
	}
}

// Embed mean-pools and normalizes each row, returning one freshly allocated vector per row.
func Embed(hidden []float32, mask []int32, rows, seq, dim int) ([][]float32, error) {
	flat := make([]float32, rows*dim)
	if err := MeanPool(flat, hidden, mask, rows, seq, dim); err != nil {
		return nil, err
	}
	vecs := make([][]float32, rows)
	for r := range vecs {
		vecs[r] = flat[r*dim : (r+1)*dim : (r+1)*dim]
		Normalize(vecs[r])
	}
	return vecs, nil
}
