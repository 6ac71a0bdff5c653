//go:build !purego

package kernels

//go:noescape
func int8TileVNNI(rows, k4 int, a *uint8, lda int, w *int8, c *float32, ldc int, ini *int32, rs, rz, cs, cw, bias *float32)

//go:noescape
func int8TileAVX2(rows, k4 int, a *uint8, lda int, w *int8, c *float32, ldc int, ini *int32, rs, rz, cs, cw, bias *float32)

//go:noescape
func int8TileAVXVNNI(rows, k4 int, a *uint8, lda int, w *int8, c *float32, ldc int, ini *int32, rs, rz, cs, cw, bias *float32)

//go:noescape
func quantRowAVX2(src *float32, dst *uint8, n int, inv float32, zp int32, flip uint32)

//go:noescape
func minMaxAVX2(src *float32, n int) (mn, mx float32)

func archInt8(level int) (Int8Set, bool) {
	vec := Int8Set{minMax: minMaxVec, quantRow: quantRowVec}
	switch {
	case level <= Int8Best && hasVNNI512:
		vec.name, vec.unsignedA, vec.tile, vec.tileRows = "avx512vnni", true, int8TileVNNIGo, i8Rows
	case level <= Int8AVXVNNI && hasAVXVNNI:
		vec.name, vec.unsignedA, vec.tile, vec.tileRows = "avxvnni", true, int8TileAVXVNNIGo, i8RowsAVX
	case level <= Int8AVX2 && hasAVX2FMA:
		vec.name, vec.tile, vec.tileRows = "avx2", int8TileAVX2Go, i8RowsAVX
	default:
		return Int8Set{}, false
	}
	return vec, true
}

func int8TileVNNIGo(rows, k4 int, a []uint8, lda int, w []int8, c []float32, ldc int, p *Int8Packed, col0 int, rs, rz []float32) {
	checkInt8Args(rows, k4, a, lda, w, c, ldc, p, col0, rs, rz, i8Rows, i8Panel)
	int8TileVNNI(rows, k4, &a[0], lda, &w[0], &c[0], ldc, &p.ini[col0], &rs[0], &rz[0], &p.cs[col0], &p.cw[col0], &p.bias[col0])
}

// int8TileAVX2Go runs the 16-column AVX2 kernel on the four quarters of a panel.
func int8TileAVX2Go(rows, k4 int, a []uint8, lda int, w []int8, c []float32, ldc int, p *Int8Packed, col0 int, rs, rz []float32) {
	checkInt8Args(rows, k4, a, lda, w, c, ldc, p, col0, rs, rz, i8RowsAVX, i8Panel)
	for qt := 0; qt < i8Panel/i8Quarter; qt++ {
		o := qt * i8Quarter
		int8TileAVX2(rows, k4, &a[0], lda, &w[4*o], &c[o], ldc, nil, &rs[0], &rz[0], &p.cs[col0+o], &p.cw[col0+o], &p.bias[col0+o])
	}
}

// int8TileAVXVNNIGo runs the 16-column AVX-VNNI kernel on the four quarters of a panel.
func int8TileAVXVNNIGo(rows, k4 int, a []uint8, lda int, w []int8, c []float32, ldc int, p *Int8Packed, col0 int, rs, rz []float32) {
	checkInt8Args(rows, k4, a, lda, w, c, ldc, p, col0, rs, rz, i8RowsAVX, i8Panel)
	for qt := 0; qt < i8Panel/i8Quarter; qt++ {
		o := qt * i8Quarter
		int8TileAVXVNNI(rows, k4, &a[0], lda, &w[4*o], &c[o], ldc, &p.ini[col0+o], &rs[0], &rz[0], &p.cs[col0+o], &p.cw[col0+o], &p.bias[col0+o])
	}
}

func minMaxVec(x []float32) (mn, mx float32) { return minMaxAVX2(&x[0], len(x)) }

func quantRowVec(x []float32, q []uint8, inv float32, zp int32, flip uint8) {
	_ = q[len(x)-1]
	quantRowAVX2(&x[0], &q[0], len(x), inv, zp, uint32(flip))
}
