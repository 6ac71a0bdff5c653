package kernels

import "math"

// bfloat16 weights: the upper 16 bits of a float32 (8 exponent bits, 7 mantissa bits),
// which halves the bytes a GEMM streams when its few rows make it memory-bound. Products
// accumulate in float32, so only the weights lose precision; activations stay float32.

// BF16 rounds f to the nearest bfloat16, ties to even; NaN stays NaN.
func BF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 { // NaN: keep it quiet and a NaN after truncation
		return uint16(u>>16) | 0x40
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// FromBF16 is the float32 value of the bfloat16 h (exact).
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// ToBF16 converts p's values to bfloat16 (BF16) in place; GEMMs on p then read half the
// bytes. The layout keeps the panels of nr columns but stores k in pairs: pair q of panel
// i holds, for column j < nr, B[nr·i+j][2q] and B[nr·i+j][2q+1] at positions 2j and 2j+1
// (the order AVX-512 BF16's VDPBF16PS pairs its operands in), zero-padded to an even depth.
// Fill* and Reset turn p back into float32.
func (p *Packed) ToBF16() {
	if p.bf16 != nil {
		return
	}
	kp := ceilDiv(p.k, 2)
	out := make([]uint16, p.panels*kp*2*nr)
	for pi := 0; pi < p.panels; pi++ {
		src := p.panel(pi)
		dst := out[pi*kp*2*nr : (pi+1)*kp*2*nr]
		for k := 0; k < p.k; k++ {
			row := src[k*nr : k*nr+nr]
			d := dst[(k/2)*2*nr+k%2:]
			for j, v := range row {
				d[2*j] = BF16(v)
			}
		}
	}
	p.bf16, p.kp, p.data = out, kp, nil
}

// IsBF16 reports whether ToBF16 converted p.
func (p *Packed) IsBF16() bool { return p.bf16 != nil }

// wideBF16Go is the portable wideBF16Func, the reference the assembly kernels are tested
// against: float32 products of the widened weights, accumulated in float32 in k order.
func wideBF16Go(rows, kc int, a []float32, lda int, b []uint16, bstride, nc int, c []float32, ldc int, bias []float32) {
	checkWideArgs(rows, kc, len(a), lda, len(b), ceilDiv(kc, 2)*2*nr, bstride, nc, len(c), ldc, bias)
	var acc [2 * nr]float32
	for r := 0; r < rows; r++ {
		cr := c[r*ldc : r*ldc+nc]
		if bias != nil {
			copy(acc[:nc], bias)
		} else {
			copy(acc[:nc], cr)
		}
		ar := a[r*lda : r*lda+kc]
		for j := 0; j < nc; j++ {
			panel := b
			jj := j
			if j >= nr {
				panel, jj = b[bstride:], j-nr
			}
			s := acc[j]
			for k, x := range ar {
				s += x * FromBF16(panel[(k/2)*2*nr+2*jj+k%2])
			}
			acc[j] = s
		}
		copy(cr, acc[:nc])
	}
}

// UseBF16 gives p bfloat16 weights in the form s multiplies fastest: packed as bf16
// (ToBF16) where s has AVX-512 kernels, which read half the bytes; elsewhere the float32
// values rounded to bf16 in place, so the products are those of bf16 weights (the
// widening to float32 done once, at load) at the float32 kernels' speed.
func (s *Set) UseBF16(p *Packed) {
	if s.wide != nil {
		p.ToBF16()
		return
	}
	if p.bf16 != nil {
		return
	}
	for i, v := range p.data {
		p.data[i] = FromBF16(BF16(v))
	}
}
