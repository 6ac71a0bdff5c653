package kernels

import "sync"

// SGEMM for the encoder's linear layers and attention.
//
// Every product is C = A·Bᵀ (+ bias), A being M×K row-major activations read in place with a
// row stride, B an N×K matrix (PyTorch's Linear weight layout) packed once into panels of
// nr=16 columns: panel p holds, for each k, the 16 values B[16p+j][k] contiguously, zero-padded
// past N. A micro-kernel computes a 6×16 tile of C for kc values of k with 12 vector
// accumulators (AVX2+FMA assembly on amd64, pure Go elsewhere). The driver splits M into
// blocks of mcBlock rows (kept in L2) and K into kcBlock-deep slices (a panel's slice stays in
// L1 while all the row tiles of a block stream past it), and farms (row block, panel group)
// tasks out to the backend's workers.
//
// With AVX-512, wide tiles of up to 12 rows × 2 panels (24 zmm accumulators, masked columns)
// replace the 6×16 ones, so a product of up to 12 rows reads each weight once; bfloat16
// weights (Packed.ToBF16) halve the bytes read. See gemmBlockWide.

const (
	mr      = 6   // rows of the register tile
	nr      = 16  // columns of the register tile and of a packed panel
	kcBlock = 384 // depth of one pass over a panel: 384·16·4 B = 24 KiB, fits L1
	mcBlock = 96  // rows of A per task: 96·384·4 B = 144 KiB, fits L2
)

// Packed is an N×K matrix (the operand B of C = A·Bᵀ) in micro-kernel layout: panels of nr
// columns, zero-padded past N. Reset and Fill* reuse its memory.
type Packed struct {
	n, k   int
	panels int
	data   []float32 // panels × k × nr
	// bf16, after ToBF16, replaces data: the values as bfloat16 in pairs of k (see ToBF16);
	// kp is the number of pairs, ⌈k/2⌉.
	bf16 []uint16
	kp   int
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// NewPacked allocates room for an n×k matrix.
func NewPacked(n, k int) *Packed {
	p := &Packed{}
	p.Reset(n, k, nil)
	return p
}

// Reset resizes p for an n×k matrix, reusing buf (or p.data) when large enough.
func (p *Packed) Reset(n, k int, buf []float32) {
	p.n, p.k, p.panels = n, k, ceilDiv(n, nr)
	p.bf16, p.kp = nil, 0
	size := p.panels * k * nr
	if buf == nil {
		buf = p.data
	}
	if cap(buf) < size {
		buf = make([]float32, size)
	}
	p.data = buf[:size]
}

// panel returns the values of panel i.
func (p *Packed) panel(i int) []float32 { return p.data[i*p.k*nr : (i+1)*p.k*nr] }

// FillNK fills p from b, an n×k row-major matrix with row stride ldb (B[j][k] = b[j*ldb+k]).
func (p *Packed) FillNK(b []float32, ldb int) {
	if p.k == 0 {
		return
	}
	fill := fillNKPanelGo
	if fillNKPanel != nil {
		fill = fillNKPanel
	}
	for pi := 0; pi < p.panels; pi++ {
		w := p.n - pi*nr
		if w > nr {
			w = nr
		}
		fill(p.panel(pi), b[pi*nr*ldb:], ldb, p.k, w)
	}
}

// fillNKPanel, if set (AVX-512), is fillNKPanelGo in assembly: attention packs K with it
// for every head and sequence.
var fillNKPanel func(dst, src []float32, ldb, k, w int)

// fillNKPanelGo sets dst[kk*nr+j] = src[j*ldb+kk] for j < w and 0 for w ≤ j < nr, kk < k:
// one panel of FillNK.
func fillNKPanelGo(dst, src []float32, ldb, k, w int) {
	for j := 0; j < nr; j++ {
		if j >= w {
			for kk := 0; kk < k; kk++ {
				dst[kk*nr+j] = 0
			}
			continue
		}
		for kk, v := range src[j*ldb : j*ldb+k] {
			dst[kk*nr+j] = v
		}
	}
}

// FillKN fills p from b, a k×n row-major matrix with row stride ldb (B[j][k] = b[k*ldb+j]),
// i.e. the transpose of what FillNK takes.
func (p *Packed) FillKN(b []float32, ldb int) {
	for pi := 0; pi < p.panels; pi++ {
		dst := p.panel(pi)
		c0 := pi * nr
		w := p.n - c0
		if w > nr {
			w = nr
		}
		for k := 0; k < p.k; k++ {
			d := dst[k*nr : k*nr+nr]
			copy(d, b[k*ldb+c0:k*ldb+c0+w])
			for j := w; j < nr; j++ {
				d[j] = 0
			}
		}
	}
}

// GemmArgs describes C[M×N] = A[M×K]·Bᵀ + Bias, A and C row-major with row strides LDA and
// LDC, B packed (N and K are its dimensions), computed with the kernel set K.
type GemmArgs struct {
	C    []float32
	LDC  int
	A    []float32
	LDA  int
	M    int
	B    *Packed
	Bias []float32 // len ≥ b.panels*nr (zero-padded), or nil for none
	K    *Set
	// CPadded says C has room for whole panels (columns up to b.panels*nr) in every row.
	CPadded bool
	// Epilogue, if set, runs on C[r0:r1, c0:c1] once those values are final.
	Epilogue func(r0, r1, c0, c1 int)

	// a16 is A rounded to bf16 for K.dotBF16 (row stride lda16), set by withBF16A.
	a16   []uint16
	lda16 int
}

// a16Pool recycles the bf16 copies of A.
var a16Pool sync.Pool

// bf16RowsPerTask is the rows of A a task of withBF16A rounds.
const bf16RowsPerTask = 32

// withBF16A returns g with A rounded to bf16 in a16 when the product runs on dotBF16, and a
// function to call once the product is done; else g itself. run(n, fn) calls fn(task) for
// every task in [0, n), in parallel or not.
func (g *GemmArgs) withBF16A(run func(n int, fn func(task int))) (*GemmArgs, func()) {
	if g.B.bf16 == nil || g.K.dotBF16 == nil {
		return g, func() {}
	}
	k := g.B.k
	ld := 2 * g.B.kp
	n := g.M * ld
	var buf []uint16
	if v, ok := a16Pool.Get().(*[]uint16); ok && cap(*v) >= n {
		buf = (*v)[:n]
	} else {
		buf = make([]uint16, n)
	}
	run(ceilDiv(g.M, bf16RowsPerTask), func(task int) {
		r1 := (task + 1) * bf16RowsPerTask
		if r1 > g.M {
			r1 = g.M
		}
		for r := task * bf16RowsPerTask; r < r1; r++ {
			row := buf[r*ld : (r+1)*ld]
			g.K.toBF16(row[:k], g.A[r*g.LDA:r*g.LDA+k])
			if k < ld {
				row[k] = 0
			}
		}
	})
	g2 := *g
	g2.a16, g2.lda16 = buf, ld
	return &g2, func() { a16Pool.Put(&buf) }
}

// gemmTasks splits a product into tasks; it returns the number of row blocks and panel groups.
func gemmTasks(m, panels, workers int) (rowBlocks, mc, groups int) {
	mc = mcBlock
	rowBlocks = ceilDiv(m, mc)
	if rowBlocks > 1 {
		// Even out the blocks (rounded up to the tile height).
		mc = ceilDiv(ceilDiv(m, rowBlocks), mr) * mr
		rowBlocks = ceilDiv(m, mc)
	}
	groups = 1
	if workers > 1 {
		// Enough tasks for load balance (≥ 3 per worker), but no group narrower than 2 panels.
		want := ceilDiv(3*workers, rowBlocks)
		if want > panels/2 {
			want = panels / 2
		}
		if want > groups {
			groups = want
		}
	}
	return rowBlocks, mc, groups
}

// Gemm computes the product on the pool's workers and the calling goroutine.
func (p *Pool) Gemm(g *GemmArgs) {
	g, done := g.withBF16A(func(n int, fn func(task int)) { p.Run(n, func(task int, _ *Scratch) { fn(task) }) })
	defer done()
	panels := g.B.panels
	// Wide kernels take panels in pairs: keep a group's pairs whole.
	unit := 1
	if g.wide() {
		unit = 2
	}
	rowBlocks, mc, groups := gemmTasks(g.M, ceilDiv(panels, unit), p.Size())
	p.Run(rowBlocks*groups, func(task int, s *Scratch) {
		rb, gi := task/groups, task%groups
		r0 := rb * mc
		r1 := r0 + mc
		if r1 > g.M {
			r1 = g.M
		}
		p0, p1 := groupPanels(gi, groups, panels, unit)
		gemmBlock(g, r0, r1, p0, p1, s)
		if g.Epilogue != nil {
			c1 := p1 * nr
			if c1 > g.B.n {
				c1 = g.B.n
			}
			g.Epilogue(r0, r1, p0*nr, c1)
		}
	})
}

// serially calls fn(task) for every task in [0, n) in order.
func serially(n int, fn func(task int)) {
	for t := 0; t < n; t++ {
		fn(t)
	}
}

// groupPanels returns the panels [p0, p1) of group gi of groups, cut at multiples of unit.
func groupPanels(gi, groups, panels, unit int) (p0, p1 int) {
	units := ceilDiv(panels, unit)
	p0 = gi * units / groups * unit
	p1 = (gi + 1) * units / groups * unit
	if p1 > panels {
		p1 = panels
	}
	return p0, p1
}

// GemmSerial computes the product on the calling goroutine.
func GemmSerial(g *GemmArgs, s *Scratch) {
	g, done := g.withBF16A(serially)
	defer done()
	gemmBlock(g, 0, g.M, 0, g.B.panels, s)
	if g.Epilogue != nil {
		g.Epilogue(0, g.M, 0, g.B.n)
	}
}

var zeroBias [2 * nr]float32

// wide reports whether the product runs on wide tiles: bf16 weights always do, float32
// weights when the kernel set has a wide kernel.
func (g *GemmArgs) wide() bool { return g.B.bf16 != nil || g.K.wide != nil }

// gemmBlock computes rows [r0, r1) and panels [p0, p1) of the product.
func gemmBlock(g *GemmArgs, r0, r1, p0, p1 int, s *Scratch) {
	if g.wide() {
		gemmBlockWide(g, r0, r1, p0, p1)
		return
	}
	k := g.B.k
	for k0 := 0; k0 < k; k0 += kcBlock {
		kc := k - k0
		if kc > kcBlock {
			kc = kcBlock
		}
		first := k0 == 0
		for pi := p0; pi < p1; pi++ {
			panel := g.B.panel(pi)[k0*nr : (k0+kc)*nr]
			c0 := pi * nr
			nc := g.B.n - c0
			if nc > nr {
				nc = nr
			}
			var bias []float32
			if first {
				if g.Bias != nil {
					bias = g.Bias[c0 : c0+nr]
				} else {
					bias = zeroBias[:]
				}
			}
			for i := r0; i < r1; i += mr {
				rows := r1 - i
				if rows > mr {
					rows = mr
				}
				a := g.A[i*g.LDA+k0:]
				full := nc == nr || g.CPadded
				if rows == mr && full && len(a) >= (mr-1)*g.LDA+kc && len(g.C)-(i*g.LDC+c0) >= (mr-1)*g.LDC+nr {
					g.K.tile(kc, a, g.LDA, panel, g.C[i*g.LDC+c0:], g.LDC, bias)
					continue
				}
				if rows == 4 && full && g.K.tile4 != nil && len(a) >= 3*g.LDA+kc && len(g.C)-(i*g.LDC+c0) >= 3*g.LDC+nr {
					g.K.tile4(kc, a, g.LDA, panel, g.C[i*g.LDC+c0:], g.LDC, bias)
					continue
				}
				edgeTile(g, a, rows, nc, kc, panel, i, c0, bias, s)
			}
		}
	}
}

// edgeTile computes a partial tile through zero-padded copies of A and C.
func edgeTile(g *GemmArgs, a []float32, rows, nc, kc int, panel []float32, i, c0 int, bias []float32, s *Scratch) {
	h, tile := mr, g.K.tile
	if rows <= 4 && g.K.tile4 != nil {
		h, tile = 4, g.K.tile4
	}
	ta := s.tileA(kc)
	for r := 0; r < h; r++ {
		dst := ta[r*kc : (r+1)*kc]
		if r < rows {
			copy(dst, a[r*g.LDA:r*g.LDA+kc])
		} else {
			for j := range dst {
				dst[j] = 0
			}
		}
	}
	tc := s.tileC[:]
	if bias == nil { // accumulate into existing C
		for r := 0; r < rows; r++ {
			copy(tc[r*nr:r*nr+nc], g.C[(i+r)*g.LDC+c0:])
		}
	}
	tile(kc, ta, kc, panel, tc, nr, bias)
	for r := 0; r < rows; r++ {
		copy(g.C[(i+r)*g.LDC+c0:(i+r)*g.LDC+c0+nc], tc[r*nr:r*nr+nc])
	}
}

// kernelGo is the portable micro-kernel: for a 6×16 tile,
// C[r][j] = init[r][j] + Σ_k A[r*lda+k]·panel[k*16+j], where init is bias[j] (broadcast to
// every row) when bias is non-nil and the tile's current C values otherwise.
//
// It walks the tile in 3×4 sub-tiles whose 12 accumulators are local variables, so the
// compiler keeps them in registers (16 on amd64, 32 on arm64, where it also fuses the
// multiply-adds).
func kernelGo(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	panel = panel[:kc*nr]
	for r0 := 0; r0 < mr; r0 += 3 {
		a0 := a[r0*lda : r0*lda+kc]
		a1 := a[(r0+1)*lda : (r0+1)*lda+kc]
		a2 := a[(r0+2)*lda : (r0+2)*lda+kc]
		c0 := c[r0*ldc : r0*ldc+nr]
		c1 := c[(r0+1)*ldc : (r0+1)*ldc+nr]
		c2 := c[(r0+2)*ldc : (r0+2)*ldc+nr]
		for j := 0; j < nr; j += 4 {
			var i0, i1, i2 []float32
			if bias != nil {
				i0, i1, i2 = bias[j:j+4], bias[j:j+4], bias[j:j+4]
			} else {
				i0, i1, i2 = c0[j:j+4], c1[j:j+4], c2[j:j+4]
			}
			s00, s01, s02, s03 := i0[0], i0[1], i0[2], i0[3]
			s10, s11, s12, s13 := i1[0], i1[1], i1[2], i1[3]
			s20, s21, s22, s23 := i2[0], i2[1], i2[2], i2[3]
			for k := 0; k < kc; k++ {
				b := panel[k*nr+j : k*nr+j+4 : k*nr+j+4]
				b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
				x := a0[k]
				s00 += x * b0
				s01 += x * b1
				s02 += x * b2
				s03 += x * b3
				x = a1[k]
				s10 += x * b0
				s11 += x * b1
				s12 += x * b2
				s13 += x * b3
				x = a2[k]
				s20 += x * b0
				s21 += x * b1
				s22 += x * b2
				s23 += x * b3
			}
			c0[j], c0[j+1], c0[j+2], c0[j+3] = s00, s01, s02, s03
			c1[j], c1[j+1], c1[j+2], c1[j+3] = s10, s11, s12, s13
			c2[j], c2[j+1], c2[j+2], c2[j+3] = s20, s21, s22, s23
		}
	}
}

// wideRows is the most rows a wide tile computes: 12 rows × 2 zmm accumulators take 24 of
// AVX-512's 32 vector registers, so up to 12 rows share one pass over a weight panel.
const wideRows = 12

// wideFunc computes a tile of rows (1..wideRows) × nc (1..2·nr) values of C:
// C[r][j] = init[r][j] + Σ_{k<kc} a[r*lda+k]·B[k][j], where B[k][j] is b[k*nr+j] for j < nr
// and b[bstride+k*nr+j-nr] beyond (the next panel), and init is bias[j] when bias is non-nil
// and C's current values otherwise. Columns of C at or past nc are neither read nor written.
type wideFunc func(rows, kc int, a []float32, lda int, b []float32, bstride, nc int, c []float32, ldc int, bias []float32)

// wideBF16Func is wideFunc for bfloat16 weights in PackedBF16 layout: B[k][j] is the
// bf16 value b[(k/2)*2*nr+2j+k%2] (j < nr), the next panel starting at b[bstride:]; kc may
// be odd (the panel is zero-padded to an even depth).
type wideBF16Func func(rows, kc int, a []float32, lda int, b []uint16, bstride, nc int, c []float32, ldc int, bias []float32)

// dotBF16Func is wideBF16Func on activations rounded to bf16, whose row r holds
// A[r][k] at a[r*lda+k] (lda even), in kp pairs of k (the last one zero-padded for an odd
// depth): the operands of AVX-512 BF16's VDPBF16PS, which multiplies pairs and adds both
// products to a float32 accumulator.
type dotBF16Func func(rows, kp int, a []uint16, lda int, b []uint16, bstride, nc int, c []float32, ldc int, bias []float32)

// checkWideArgs panics if a wide kernel call would touch memory outside its slices (the
// assembly kernels do no bounds checks). bElems is the panel length kc steps take.
func checkWideArgs(rows, kc, la, lda, lb, bElems, bstride, nc, lc, ldc int, bias []float32) {
	width := nr
	if nc > nr {
		width = 2 * nr
		bElems += bstride
	}
	if rows < 1 || rows > wideRows || kc < 1 || nc < 1 || nc > 2*nr || la < (rows-1)*lda+kc || lb < bElems ||
		lc < (rows-1)*ldc+nc || (bias != nil && len(bias) < width) {
		panic("kernels: wide kernel arguments out of range")
	}
}

// colMasks returns the column masks of the first and second panel for nc columns.
func colMasks(nc int) (m1, m2 int) {
	if nc >= nr {
		return 1<<nr - 1, 1<<(nc-nr) - 1
	}
	return 1<<nc - 1, 0
}

// gemmBlockWide is gemmBlock on wide tiles: panel pairs outside, row tiles of up to
// wideRows rows inside, so each pair of panels is read from memory once per row block and
// stays in cache while every row tile uses it.
func gemmBlockWide(g *GemmArgs, r0, r1, p0, p1 int) {
	k := g.B.k
	rows := r1 - r0
	tiles := ceilDiv(rows, wideRows)
	h := ceilDiv(rows, tiles) // even tile heights: 16 rows are 8+8, not 12+4
	for k0 := 0; k0 < k; k0 += kcBlock {
		kc := k - k0
		if kc > kcBlock {
			kc = kcBlock
		}
		first := k0 == 0
		for pi := p0; pi < p1; pi += 2 {
			c0 := pi * nr
			nc := g.B.n - c0
			if nc > 2*nr {
				nc = 2 * nr
			}
			if pi+1 >= p1 && nc > nr {
				nc = nr
			}
			width := nr
			if nc > nr {
				width = 2 * nr
			}
			var bias []float32
			if first {
				if g.Bias != nil {
					bias = g.Bias[c0 : c0+width]
				} else {
					bias = zeroBias[:width]
				}
			}
			for i := r0; i < r1; i += h {
				rt := r1 - i
				if rt > h {
					rt = h
				}
				a := g.A[i*g.LDA+k0:]
				c := g.C[i*g.LDC+c0:]
				if g.a16 != nil {
					g.K.dotBF16(rt, (kc+1)/2, g.a16[i*g.lda16+k0:], g.lda16, g.B.bf16[pi*g.B.kp*2*nr+k0*nr:], g.B.kp*2*nr, nc, c, g.LDC, bias)
				} else if bf := g.B.bf16; bf != nil {
					wide := g.K.wideBF16
					if wide == nil {
						wide = wideBF16Go
					}
					wide(rt, kc, a, g.LDA, bf[pi*g.B.kp*2*nr+k0*nr:], g.B.kp*2*nr, nc, c, g.LDC, bias)
				} else {
					g.K.wide(rt, kc, a, g.LDA, g.B.data[pi*k*nr+k0*nr:], k*nr, nc, c, g.LDC, bias)
				}
			}
		}
	}
}
