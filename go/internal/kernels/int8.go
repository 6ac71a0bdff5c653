package kernels

// Int8 GEMM for the encoder's linear layers: C = A·Wᵀ + bias with W quantized once per
// output channel and A quantized per row at each call.
//
// Weights: row j of W (an output channel) is stored as int8 w[j][k] = round(W[j][k]/cs[j]),
// cs[j] = max_k |W[j][k]| / 127 (symmetric). Rows are packed into panels of 64 columns; a
// panel holds, for each group of 4 consecutive k (k4), the 64 columns' 4 bytes contiguously
// (256 bytes), the layout VPDPBUSD consumes: one zmm load is 16 columns × 4 k.
//
// Activations: row r of A is quantized asymmetrically to q[r][k] ∈ [1, 255] with a zero
// point zp[r] and scale rs[r] = (max(x,0) − min(x,0)) / 254, so that 0 is exact. The range
// stops at 1, not 0, so that q − 128 fits in [−127, 127], which the AVX2 kernel's
// saturation-free sign trick needs (see gen_int8.go). Per row (per token) and not per
// tensor: a token's activations share a range, and a few outlier tokens do not coarsen the
// others'.
//
// Accumulation: every kernel computes acc[r][j] = Σ_k (q[r][k] − 128)·w[j][k] exactly in
// int32 (|acc| ≤ 1536·127·127 < 2³¹ for K up to 133,000), and the epilogue dequantizes in
// float32: C[r][j] = rs[r]·(cs[j]·acc + (128 − zp[r])·cw[j]) + bias[j], cw[j] = cs[j]·Σ_k w[j][k].
// The VNNI kernel multiplies unsigned q by signed w (VPDPBUSD) and starts from
// ini[j] = −128·Σ_k w[j][k] to get the same sums.

import (
	"fmt"
	"math"
	"sync"
)

const (
	i8Panel   = 64 // columns per packed panel (and per VNNI tile)
	i8Rows    = 6  // most rows per VNNI tile
	i8Quarter = 16 // columns per AVX2 tile
	i8RowsAVX = 4  // most rows per AVX2 tile
	i8MC      = 96 // rows of A per task (96 × 1536 B = 144 KiB of quantized A)
)

// Int8Packed is an N×K weight matrix quantized per output channel (row of W) to int8 and
// packed for the int8 micro-kernels, with its bias and dequantization vectors.
type Int8Packed struct {
	n, k, k4, panels int
	data             []int8    // panels × k4 × 64 × 4
	ini              []int32   // −128·Σ_k w[j][k], padded to panels·64
	cs               []float32 // column (output channel) scales, zero past n
	cw               []float32 // cs[j]·Σ_k w[j][k]
	bias             []float32 // zero past n
}

// N is the number of output channels (columns of C).
func (p *Int8Packed) N() int { return p.n }

// K is the inner dimension (columns of A).
func (p *Int8Packed) K() int { return p.k }

// Bytes is the size of the packed int8 weights.
func (p *Int8Packed) Bytes() int { return len(p.data) }

// QuantizeInt8 quantizes an n×k row-major weight matrix w (row stride ldw, PyTorch's
// out×in layout) per row to int8 and packs it with bias (len n, or nil for none).
func QuantizeInt8(w []float32, n, k, ldw int, bias []float32) *Int8Packed {
	k4 := ceilDiv(k, 4)
	panels := ceilDiv(n, i8Panel)
	width := panels * i8Panel
	p := &Int8Packed{
		n: n, k: k, k4: k4, panels: panels,
		data: make([]int8, panels*k4*i8Panel*4),
		ini:  make([]int32, width),
		cs:   make([]float32, width),
		cw:   make([]float32, width),
		bias: make([]float32, width),
	}
	copy(p.bias, bias)
	for j := 0; j < n; j++ {
		row := w[j*ldw : j*ldw+k]
		var amax float32
		for _, v := range row {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax = a
			}
		}
		scale := amax / 127
		inv := float32(0)
		if amax > 0 {
			inv = 127 / amax
		}
		panel := p.data[(j/i8Panel)*k4*i8Panel*4:]
		col := j % i8Panel
		sum := int32(0)
		for kk, v := range row {
			q := int32(math.RoundToEven(float64(v * inv)))
			if q > 127 {
				q = 127
			} else if q < -127 {
				q = -127
			}
			panel[(kk/4)*i8Panel*4+col*4+kk%4] = int8(q)
			sum += q
		}
		p.cs[j] = scale
		p.cw[j] = scale * float32(sum)
		p.ini[j] = -128 * sum
	}
	return p
}

// int8Rows is A quantized per row: q[r*ld+k] (ld = 4·k4, zero-padded), with rs[r] the scale
// and rz[r] = 128 − zp[r]. Bytes are q itself (unsigned kernels) or q XOR 0x80, i.e. q − 128
// as a signed byte (signed kernels).
type int8Rows struct {
	q      []uint8
	ld     int
	rs, rz []float32
}

var int8RowsPool = sync.Pool{New: func() interface{} { return new(int8Rows) }}

func (r *int8Rows) reset(m, ld int) {
	r.ld = ld
	if cap(r.q) < m*ld {
		r.q = make([]uint8, m*ld)
	}
	r.q = r.q[:m*ld]
	if cap(r.rs) < m {
		r.rs = make([]float32, m)
		r.rz = make([]float32, m)
	}
	r.rs, r.rz = r.rs[:m], r.rz[:m]
}

// quantizeRow quantizes x into q (len ≥ len(x); the rest up to a multiple of 4 is set to
// the zero point) and returns the row's scale and 128 − zero point.
func (s *Int8Set) quantizeRow(x []float32, q []uint8) (scale, rz float32) {
	var mn, mx float32
	n8 := 0
	if s.minMax != nil {
		n8 = len(x) &^ 7
	}
	if n8 > 0 {
		mn, mx = s.minMax(x[:n8])
	} else if len(x) > 0 {
		mn, mx = x[0], x[0]
	}
	for _, v := range x[n8:] {
		if v < mn {
			mn = v
		}
		if v > mx {
			mx = v
		}
	}
	if mn > 0 {
		mn = 0
	}
	if mx < 0 {
		mx = 0
	}
	scale = (mx - mn) / 254
	inv := float32(1)
	if scale > 0 {
		inv = 254 / (mx - mn)
	} else {
		scale = 0
	}
	zp := 1 + int32(math.RoundToEven(float64(-mn*inv)))
	if zp > 255 {
		zp = 255
	}
	flip := uint8(0)
	if !s.unsignedA {
		flip = 0x80
	}
	if n8 > 0 && s.quantRow != nil {
		s.quantRow(x[:n8], q[:n8], inv, zp, flip)
	} else {
		n8 = 0
	}
	quantRowGo(x[n8:], q[n8:], inv, zp, flip)
	for i := len(x); i < len(q); i++ {
		q[i] = uint8(zp) ^ flip
	}
	return scale, float32(128 - zp)
}

// quantRowGo sets q[i] = clamp(round(x[i]·inv) + zp, 1, 255) XOR flip, rounding half to
// even as the vector conversion does.
func quantRowGo(x []float32, q []uint8, inv float32, zp int32, flip uint8) {
	for i, v := range x {
		t := int32(math.RoundToEven(float64(v*inv))) + zp
		if t < 1 {
			t = 1
		} else if t > 255 {
			t = 255
		}
		q[i] = uint8(t) ^ flip
	}
}

// Int8Set is one instruction set's int8 micro-kernel and quantizer loops. SelectInt8
// returns one.
type Int8Set struct {
	name      string
	unsignedA bool // the kernel reads activations as q (else as q − 128)
	// tile computes rows (≤ tileRows) × 64 columns of C from a whole panel.
	tile     func(rows, k4 int, a []uint8, lda int, w []int8, c []float32, ldc int, p *Int8Packed, col0 int, rs, rz []float32)
	tileRows int
	minMax   func(x []float32) (mn, mx float32)                              // nil: Go
	quantRow func(x []float32, q []uint8, inv float32, zp int32, flip uint8) // nil: Go
}

// Name names the instruction set: "avx512vnni", "avxvnni", "avx2" or "go".
func (s *Int8Set) Name() string { return s.name }

// Int8 instruction-set levels for SelectInt8, best first.
const (
	Int8Best    = iota // the best the CPU supports: AVX-512 VNNI first
	Int8AVXVNNI        // at most AVX-VNNI (VEX-encoded VPDPBUSD on 256 bits)
	Int8AVX2           // at most AVX2 (no VNNI)
	Int8Go             // portable Go
)

var int8Go = Int8Set{name: "go", tile: int8TileGo, tileRows: i8Rows}

// SelectInt8 returns the best int8 kernels the CPU supports at or below level (Int8Best,
// Int8AVXVNNI, Int8AVX2 or Int8Go; tests force the fallbacks with the lower levels).
func SelectInt8(level int) Int8Set {
	if s, ok := archInt8(level); ok {
		return s
	}
	return int8Go
}

// int8TileGo is the portable micro-kernel and the reference of the others: for r < rows and
// the 64 columns j of panel w, C[r][j] = rs[r]·(cs[j]·acc + rz[r]·cw[j]) + bias[j] with
// acc = Σ_k int8(a[r][k])·w[j][k] (a holding q − 128 as signed bytes), rounding as the
// vector kernels do (two fused multiply-adds).
func int8TileGo(rows, k4 int, a []uint8, lda int, w []int8, c []float32, ldc int, p *Int8Packed, col0 int, rs, rz []float32) {
	checkInt8Args(rows, k4, a, lda, w, c, ldc, p, col0, rs, rz, i8Rows, i8Panel)
	var acc [i8Panel]int32
	cs, cw, bias := p.cs[col0:col0+i8Panel], p.cw[col0:col0+i8Panel], p.bias[col0:col0+i8Panel]
	for r := 0; r < rows; r++ {
		acc = [i8Panel]int32{}
		ar := a[r*lda : r*lda+4*k4]
		for kk := 0; kk < k4; kk++ {
			x0, x1, x2, x3 := int32(int8(ar[4*kk])), int32(int8(ar[4*kk+1])), int32(int8(ar[4*kk+2])), int32(int8(ar[4*kk+3]))
			blk := w[kk*i8Panel*4 : (kk+1)*i8Panel*4]
			for j := 0; j < i8Panel; j++ {
				b := blk[4*j : 4*j+4 : 4*j+4]
				acc[j] += x0*int32(b[0]) + x1*int32(b[1]) + x2*int32(b[2]) + x3*int32(b[3])
			}
		}
		cr := c[r*ldc : r*ldc+i8Panel]
		for j := range cr {
			t := fma32(rz[r], cw[j], cs[j]*float32(acc[j]))
			cr[j] = fma32(rs[r], t, bias[j])
		}
	}
}

// fma32 is x·y + z rounded once, as the vector kernels' fused multiply-add (up to a rare
// double rounding through float64: the product of two float32 values is exact there).
func fma32(x, y, z float32) float32 { return float32(math.FMA(float64(x), float64(y), float64(z))) }

// checkInt8Args panics if a tile call would touch memory outside its slices: the assembly
// kernels do no bounds checks. A panic here is a bug in this package.
func checkInt8Args(rows, k4 int, a []uint8, lda int, w []int8, c []float32, ldc int, p *Int8Packed, col0 int, rs, rz []float32, maxRows, cols int) {
	if rows < 1 || rows > maxRows || k4 < 1 || len(a) < (rows-1)*lda+4*k4 || len(w) < (k4-1)*i8Panel*4+cols*4 ||
		len(c) < (rows-1)*ldc+cols || col0+cols > len(p.cs) || len(rs) < rows || len(rz) < rows {
		panic(fmt.Sprintf("kernels: int8 tile arguments out of range (rows %d, k4 %d, len(a) %d, lda %d, len(w) %d, len(c) %d, ldc %d)",
			rows, k4, len(a), lda, len(w), len(c), ldc))
	}
}

// Int8Args describes C[M×N] = A[M×K]·Wᵀ + bias with W quantized (see QuantizeInt8), A and
// C row-major with row strides LDA and LDC (LDC ≥ N).
type Int8Args struct {
	C   []float32
	LDC int
	A   []float32
	LDA int
	M   int
	W   *Int8Packed
	K   *Int8Set
	// Epilogue, if set, runs on C[r0:r1, c0:c1] once those values are final.
	Epilogue func(r0, r1, c0, c1 int)
}

// GemmInt8 quantizes A per row and computes the product on the pool's workers. Each task
// takes a block of up to 96 rows and a group of panels, and runs every row tile of its
// block against one panel before moving to the next, so with few rows each weight byte is
// read from memory once per call; with few rows the panels are split among the workers.
func (p *Pool) GemmInt8(g *Int8Args) {
	w := g.W
	if g.M == 0 || w.n == 0 {
		return
	}
	if w.k == 0 {
		for r := 0; r < g.M; r++ {
			copy(g.C[r*g.LDC:r*g.LDC+w.n], w.bias)
		}
		if g.Epilogue != nil {
			g.Epilogue(0, g.M, 0, w.n)
		}
		return
	}
	q := int8RowsPool.Get().(*int8Rows)
	defer int8RowsPool.Put(q)
	ld := 4 * w.k4
	q.reset(g.M, ld)
	quant := func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			q.rs[r], q.rz[r] = g.K.quantizeRow(g.A[r*g.LDA:r*g.LDA+w.k], q.q[r*ld:(r+1)*ld])
		}
	}
	const quantRows = 64
	if g.M <= quantRows {
		quant(0, g.M)
	} else {
		p.Run(ceilDiv(g.M, quantRows), func(t int, _ *Scratch) {
			r1 := (t + 1) * quantRows
			if r1 > g.M {
				r1 = g.M
			}
			quant(t*quantRows, r1)
		})
	}

	rowBlocks := ceilDiv(g.M, i8MC)
	mc := ceilDiv(ceilDiv(g.M, rowBlocks), g.K.tileRows) * g.K.tileRows
	rowBlocks = ceilDiv(g.M, mc)
	groups := 1
	if workers := p.Size(); workers > 1 {
		groups = ceilDiv(3*workers, rowBlocks)
		if groups > w.panels {
			groups = w.panels
		}
		if groups < 1 {
			groups = 1
		}
	}
	p.Run(rowBlocks*groups, func(task int, _ *Scratch) {
		rb, gi := task/groups, task%groups
		r0 := rb * mc
		r1 := r0 + mc
		if r1 > g.M {
			r1 = g.M
		}
		p0, p1 := gi*w.panels/groups, (gi+1)*w.panels/groups
		int8Block(g, q, r0, r1, p0, p1)
		if g.Epilogue != nil {
			c1 := p1 * i8Panel
			if c1 > w.n {
				c1 = w.n
			}
			g.Epilogue(r0, r1, p0*i8Panel, c1)
		}
	})
}

// int8Block computes rows [r0, r1) and panels [p0, p1) of the product.
func int8Block(g *Int8Args, q *int8Rows, r0, r1, p0, p1 int) {
	w, ld := g.W, q.ld
	panelSize := w.k4 * i8Panel * 4
	var edge []float32 // a partial panel's tile, allocated if N is not a multiple of 64
	for pi := p0; pi < p1; pi++ {
		panel := w.data[pi*panelSize : (pi+1)*panelSize]
		c0 := pi * i8Panel
		nc := w.n - c0
		if nc > i8Panel {
			nc = i8Panel
		}
		for i := r0; i < r1; i += g.K.tileRows {
			rows := r1 - i
			if rows > g.K.tileRows {
				rows = g.K.tileRows
			}
			a := q.q[i*ld:]
			rs, rz := q.rs[i:i+rows], q.rz[i:i+rows]
			if nc == i8Panel && len(g.C)-(i*g.LDC+c0) >= (rows-1)*g.LDC+i8Panel {
				g.K.tile(rows, w.k4, a, ld, panel, g.C[i*g.LDC+c0:], g.LDC, w, c0, rs, rz)
				continue
			}
			if edge == nil {
				edge = make([]float32, i8Rows*i8Panel)
			}
			g.K.tile(rows, w.k4, a, ld, panel, edge, i8Panel, w, c0, rs, rz)
			for r := 0; r < rows; r++ {
				copy(g.C[(i+r)*g.LDC+c0:(i+r)*g.LDC+c0+nc], edge[r*i8Panel:r*i8Panel+nc])
			}
		}
	}
}
