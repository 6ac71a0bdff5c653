package cpu

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

const (
	mr      = 6   // rows of the register tile
	nr      = 16  // columns of the register tile and of a packed panel
	kcBlock = 384 // depth of one pass over a panel: 384·16·4 B = 24 KiB, fits L1
	mcBlock = 96  // rows of A per task: 96·384·4 B = 144 KiB, fits L2
)

// packed is an N×K matrix in micro-kernel layout.
type packed struct {
	n, k   int
	panels int
	data   []float32 // panels × k × nr
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// newPacked allocates room for an n×k matrix.
func newPacked(n, k int) *packed {
	p := &packed{}
	p.reset(n, k, nil)
	return p
}

// reset resizes p for an n×k matrix, reusing buf (or p.data) when large enough.
func (p *packed) reset(n, k int, buf []float32) {
	p.n, p.k, p.panels = n, k, ceilDiv(n, nr)
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
func (p *packed) panel(i int) []float32 { return p.data[i*p.k*nr : (i+1)*p.k*nr] }

// packNK fills p from b, an n×k row-major matrix with row stride ldb (B[j][k] = b[j*ldb+k]).
func (p *packed) packNK(b []float32, ldb int) {
	for pi := 0; pi < p.panels; pi++ {
		dst := p.panel(pi)
		for j := 0; j < nr; j++ {
			col := pi*nr + j
			if col >= p.n {
				for k := 0; k < p.k; k++ {
					dst[k*nr+j] = 0
				}
				continue
			}
			row := b[col*ldb : col*ldb+p.k]
			for k, v := range row {
				dst[k*nr+j] = v
			}
		}
	}
}

// packKN fills p from b, a k×n row-major matrix with row stride ldb (B[j][k] = b[k*ldb+j]),
// i.e. the transpose of what packNK takes.
func (p *packed) packKN(b []float32, ldb int) {
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

// gemmArgs describes C[m×n] = A[m×k]·Bᵀ + bias.
type gemmArgs struct {
	c    []float32
	ldc  int
	a    []float32
	lda  int
	m    int
	b    *packed
	bias []float32 // len ≥ b.panels*nr (zero-padded), or nil for none
	k    *kernels
	// cPadded says C has room for whole panels (columns up to b.panels*nr) in every row.
	cPadded bool
	// epilogue, if set, runs on C[r0:r1, c0:c1] once those values are final.
	epilogue func(r0, r1, c0, c1 int)
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

// gemm computes the product using the pool's workers.
func (p *pool) gemm(g *gemmArgs) {
	panels := g.b.panels
	rowBlocks, mc, groups := gemmTasks(g.m, panels, p.size())
	p.run(rowBlocks*groups, func(task int, s *scratch) {
		rb, gi := task/groups, task%groups
		r0 := rb * mc
		r1 := r0 + mc
		if r1 > g.m {
			r1 = g.m
		}
		p0 := gi * panels / groups
		p1 := (gi + 1) * panels / groups
		gemmBlock(g, r0, r1, p0, p1, s)
		if g.epilogue != nil {
			c1 := p1 * nr
			if c1 > g.b.n {
				c1 = g.b.n
			}
			g.epilogue(r0, r1, p0*nr, c1)
		}
	})
}

// gemmSerial computes the product on the calling goroutine.
func gemmSerial(g *gemmArgs, s *scratch) {
	gemmBlock(g, 0, g.m, 0, g.b.panels, s)
	if g.epilogue != nil {
		g.epilogue(0, g.m, 0, g.b.n)
	}
}

var zeroBias [nr]float32

// gemmBlock computes rows [r0, r1) and panels [p0, p1) of the product.
func gemmBlock(g *gemmArgs, r0, r1, p0, p1 int, s *scratch) {
	k := g.b.k
	for k0 := 0; k0 < k; k0 += kcBlock {
		kc := k - k0
		if kc > kcBlock {
			kc = kcBlock
		}
		first := k0 == 0
		for pi := p0; pi < p1; pi++ {
			panel := g.b.panel(pi)[k0*nr : (k0+kc)*nr]
			c0 := pi * nr
			nc := g.b.n - c0
			if nc > nr {
				nc = nr
			}
			var bias []float32
			if first {
				if g.bias != nil {
					bias = g.bias[c0 : c0+nr]
				} else {
					bias = zeroBias[:]
				}
			}
			for i := r0; i < r1; i += mr {
				rows := r1 - i
				if rows > mr {
					rows = mr
				}
				a := g.a[i*g.lda+k0:]
				full := nc == nr || g.cPadded
				if rows == mr && full && len(a) >= (mr-1)*g.lda+kc && len(g.c)-(i*g.ldc+c0) >= (mr-1)*g.ldc+nr {
					g.k.tile(kc, a, g.lda, panel, g.c[i*g.ldc+c0:], g.ldc, bias)
					continue
				}
				if rows == 4 && full && g.k.tile4 != nil && len(a) >= 3*g.lda+kc && len(g.c)-(i*g.ldc+c0) >= 3*g.ldc+nr {
					g.k.tile4(kc, a, g.lda, panel, g.c[i*g.ldc+c0:], g.ldc, bias)
					continue
				}
				edgeTile(g, a, rows, nc, kc, panel, i, c0, bias, s)
			}
		}
	}
}

// edgeTile computes a partial tile through zero-padded copies of A and C.
func edgeTile(g *gemmArgs, a []float32, rows, nc, kc int, panel []float32, i, c0 int, bias []float32, s *scratch) {
	h, tile := mr, g.k.tile
	if rows <= 4 && g.k.tile4 != nil {
		h, tile = 4, g.k.tile4
	}
	ta := s.tileA(kc)
	for r := 0; r < h; r++ {
		dst := ta[r*kc : (r+1)*kc]
		if r < rows {
			copy(dst, a[r*g.lda:r*g.lda+kc])
		} else {
			for j := range dst {
				dst[j] = 0
			}
		}
	}
	tc := s.tileC[:]
	if bias == nil { // accumulate into existing C
		for r := 0; r < rows; r++ {
			copy(tc[r*nr:r*nr+nc], g.c[(i+r)*g.ldc+c0:])
		}
	}
	tile(kc, ta, kc, panel, tc, nr, bias)
	for r := 0; r < rows; r++ {
		copy(g.c[(i+r)*g.ldc+c0:(i+r)*g.ldc+c0+nc], tc[r*nr:r*nr+nc])
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
