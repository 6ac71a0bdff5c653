package mil

import (
	"fmt"
	"math"
	"sort"

	"github.com/minilm-coreml/minilm/go/internal/kernels"
	"github.com/minilm-coreml/minilm/go/mlpackage"
)

var opTable map[string]opFunc

func init() {
	opTable = map[string]opFunc{
		"add":            binary(func(x, y float32) float32 { return x + y }),
		"sub":            binary(func(x, y float32) float32 { return x - y }),
		"mul":            binary(func(x, y float32) float32 { return x * y }),
		"real_div":       binary(func(x, y float32) float32 { return x / y }),
		"maximum":        binary(maximum),
		"minimum":        binary(minimum),
		"equal":          binary(func(x, y float32) float32 { return boolValue(x == y) }),
		"not_equal":      binary(func(x, y float32) float32 { return boolValue(x != y) }),
		"cast":           opCast,
		"shape":          opShape,
		"gather":         opGather,
		"concat":         opConcat,
		"slice_by_index": opSliceByIndex,
		"expand_dims":    opExpandDims,
		"squeeze":        opSqueeze,
		"reshape":        opReshape,
		"transpose":      opTranspose,
		"identity":       opIdentity,
		"linear":         opLinear,
		"matmul":         opMatmul,
		"layer_norm":     opLayerNorm,
		"softmax":        opSoftmax,
		"gelu":           opGelu,
		"quantize":       opQuantize,
		"dequantize":     opDequantize,

		"constexpr_blockwise_shift_scale": opBlockwiseShiftScale,
		"constexpr_lut_to_dense":          opLutToDense,
		"constexpr_affine_dequantize":     opAffineDequantize,
	}
}

// SupportedOps lists the operation types Load accepts (besides const).
func SupportedOps() []string {
	out := []string{"const"}
	for k := range opTable {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// broadcastShape is numpy broadcasting of two shapes.
func broadcastShape(a, b []int) ([]int, error) {
	n := len(a)
	if len(b) > n {
		n = len(b)
	}
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// bstrides returns the strides of shape broadcast to out (0 along broadcast dimensions).
func bstrides(shape, out []int) []int {
	st := strides(shape)
	res := make([]int, len(out))
	off := len(out) - len(shape)
	for i := range shape {
		if shape[i] != 1 {
			res[off+i] = st[i]
		}
	}
	return res
}

// broadcast2 calls f(dst, xs, xStep, ys, yStep) for runs along the innermost dimension.
func broadcast2(x, y *Tensor, fn func(x, y float32) float32) (*Tensor, error) {
	shape, err := broadcastShape(x.Shape, y.Shape)
	if err != nil {
		return nil, err
	}
	out := &Tensor{Shape: shape, Data: make([]float32, numel(shape)), DType: x.DType}
	if !x.DType.IsFloat() && y.DType.IsFloat() {
		out.DType = y.DType
	}
	n := len(out.Data)
	if n == 0 {
		return out, nil
	}
	switch {
	case len(x.Data) == n && len(y.Data) == n:
		for i := range out.Data {
			out.Data[i] = fn(x.Data[i], y.Data[i])
		}
		return out, nil
	case len(y.Data) == 1 && len(x.Data) == n:
		yv := y.Data[0]
		for i, v := range x.Data {
			out.Data[i] = fn(v, yv)
		}
		return out, nil
	case len(x.Data) == 1 && len(y.Data) == n:
		xv := x.Data[0]
		for i, v := range y.Data {
			out.Data[i] = fn(xv, v)
		}
		return out, nil
	}
	rank := len(shape)
	xs, ys := bstrides(x.Shape, shape), bstrides(y.Shape, shape)
	inner := shape[rank-1]
	xi, yi := xs[rank-1], ys[rank-1]
	idx := make([]int, rank)
	for o := 0; o < n; o += inner {
		xo, yo := 0, 0
		for d := 0; d < rank-1; d++ {
			xo += idx[d] * xs[d]
			yo += idx[d] * ys[d]
		}
		dst := out.Data[o : o+inner]
		for j := range dst {
			dst[j] = fn(x.Data[xo+j*xi], y.Data[yo+j*yi])
		}
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

func binary(fn func(x, y float32) float32) opFunc {
	return func(p *Program, s *step, a args) ([]*Tensor, error) {
		x, err := a.req("x")
		if err != nil {
			return nil, err
		}
		y, err := a.req("y")
		if err != nil {
			return nil, err
		}
		out, err := broadcast2(x, y, fn)
		if err != nil {
			return nil, err
		}
		return []*Tensor{out}, nil
	}
}

// maximum is MIL maximum of two elements; a NaN operand gives NaN.
func maximum(x, y float32) float32 {
	if x != x || x > y {
		return x
	}
	return y
}

// minimum is MIL minimum of two elements; a NaN operand gives NaN.
func minimum(x, y float32) float32 {
	if x != x || x < y {
		return x
	}
	return y
}

// boolValue is a bool tensor element: 1 for true, 0 for false.
func boolValue(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

func opIdentity(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	return []*Tensor{{DType: x.DType, Shape: x.Shape, Data: x.Data}}, nil
}

func opShape(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	out := NewTensor(mlpackage.Int32, []int{len(x.Shape)})
	for i, d := range x.Shape {
		out.Data[i] = float32(d)
	}
	return []*Tensor{out}, nil
}

// intRange is the representable range of an integer type.
func intRange(dt mlpackage.DataType) (lo, hi float64, ok bool) {
	switch dt {
	case mlpackage.Int8:
		return -128, 127, true
	case mlpackage.UInt8:
		return 0, 255, true
	case mlpackage.Int16:
		return -32768, 32767, true
	case mlpackage.UInt16:
		return 0, 65535, true
	case mlpackage.Int32:
		return math.MinInt32, math.MaxInt32, true
	case mlpackage.UInt32:
		return 0, math.MaxUint32, true
	case mlpackage.Int64:
		return math.MinInt64, math.MaxInt64, true
	case mlpackage.Int4:
		return -8, 7, true
	case mlpackage.UInt4:
		return 0, 15, true
	}
	return 0, 0, false
}

func opCast(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	ds, err := a.opt("dtype").str()
	if err != nil {
		return nil, fmt.Errorf("dtype: %w", err)
	}
	dt, ok := mlpackage.ParseDataType(ds)
	if !ok {
		return nil, fmt.Errorf("unknown dtype %q", ds)
	}
	out := &Tensor{DType: dt, Shape: x.Shape, Data: make([]float32, len(x.Data))}
	switch {
	case dt == mlpackage.Bool:
		for i, v := range x.Data {
			if v != 0 {
				out.Data[i] = 1
			}
		}
	case dt.IsFloat():
		copy(out.Data, x.Data)
	default:
		lo, hi, ok := intRange(dt)
		if !ok {
			return nil, fmt.Errorf("cannot cast to %v", dt)
		}
		for i, v := range x.Data {
			f := math.Trunc(float64(v))
			if math.IsNaN(f) || f < lo || f > hi {
				return nil, fmt.Errorf("value %g at %d does not fit %v", v, i, dt)
			}
			out.Data[i] = float32(f)
		}
	}
	return []*Tensor{out}, nil
}

func opGather(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	ind, err := a.req("indices")
	if err != nil {
		return nil, err
	}
	axis := 0
	if t := a.opt("axis"); t != nil {
		if axis, err = t.scalarInt(); err != nil {
			return nil, err
		}
	}
	if t := a.opt("batch_dims"); t != nil {
		if bd, err := t.scalarInt(); err != nil || bd != 0 {
			return nil, fmt.Errorf("batch_dims %v is not supported (only 0)", t.Data)
		}
	}
	if axis, err = normAxis(axis, len(x.Shape)); err != nil {
		return nil, err
	}
	outer := numel(x.Shape[:axis])
	dim := x.Shape[axis]
	inner := numel(x.Shape[axis+1:])
	shape := append(append(append([]int{}, x.Shape[:axis]...), ind.Shape...), x.Shape[axis+1:]...)
	out := &Tensor{DType: x.DType, Shape: shape, Data: make([]float32, numel(shape))}
	ni := len(ind.Data)
	for o := 0; o < outer; o++ {
		for j, fv := range ind.Data {
			k := int(fv)
			if k < 0 {
				k += dim
			}
			if k < 0 || k >= dim {
				return nil, fmt.Errorf("index %v out of range [0, %d)", fv, dim)
			}
			copy(out.Data[(o*ni+j)*inner:(o*ni+j+1)*inner], x.Data[(o*dim+k)*inner:(o*dim+k+1)*inner])
		}
	}
	return []*Tensor{out}, nil
}

func opConcat(p *Program, s *step, a args) ([]*Tensor, error) {
	vals := a["values"]
	if len(vals) == 0 {
		return nil, fmt.Errorf("no values")
	}
	axis, err := a.opt("axis").scalarInt()
	if err != nil {
		return nil, fmt.Errorf("axis: %w", err)
	}
	if t := a.opt("interleave"); t != nil {
		if il, _ := t.boolean(); il {
			return nil, fmt.Errorf("interleave=True is not supported")
		}
	}
	// Scalars (e.g. single dimensions gathered from a shape) concatenate as 1-element vectors.
	promoted := make([]*Tensor, len(vals))
	for i, v := range vals {
		if len(v.Shape) == 0 {
			v = &Tensor{DType: v.DType, Shape: []int{1}, Data: v.Data}
		}
		promoted[i] = v
	}
	vals = promoted
	rank := len(vals[0].Shape)
	if axis, err = normAxis(axis, rank); err != nil {
		return nil, err
	}
	shape := append([]int{}, vals[0].Shape...)
	shape[axis] = 0
	for _, v := range vals {
		if len(v.Shape) != rank {
			return nil, fmt.Errorf("values of ranks %d and %d", rank, len(v.Shape))
		}
		for d := range v.Shape {
			if d != axis && v.Shape[d] != shape[d] {
				return nil, fmt.Errorf("shapes %v and %v differ off axis %d", vals[0].Shape, v.Shape, axis)
			}
		}
		shape[axis] += v.Shape[axis]
	}
	out := &Tensor{DType: vals[0].DType, Shape: shape, Data: make([]float32, 0, numel(shape))}
	outer := numel(shape[:axis])
	inner := numel(shape[axis+1:])
	for o := 0; o < outer; o++ {
		for _, v := range vals {
			n := v.Shape[axis] * inner
			out.Data = append(out.Data, v.Data[o*n:(o+1)*n]...)
		}
	}
	return []*Tensor{out}, nil
}

func boolList(t *Tensor, rank int, def bool) []bool {
	out := make([]bool, rank)
	for i := range out {
		out[i] = def
		if t != nil && i < len(t.Data) {
			out[i] = t.Data[i] != 0
		}
	}
	return out
}

func opSliceByIndex(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	rank := len(x.Shape)
	begin, end := make([]int, rank), append([]int{}, x.Shape...)
	stride := make([]int, rank)
	for i := range stride {
		stride[i] = 1
	}
	for _, v := range []struct {
		name string
		dst  []int
	}{{"begin", begin}, {"end", end}, {"stride", stride}} {
		if t := a.opt(v.name); t != nil {
			if len(t.Data) != rank {
				return nil, fmt.Errorf("%s has %d values for rank %d", v.name, len(t.Data), rank)
			}
			copy(v.dst, t.ints())
		}
	}
	bm := boolList(a.opt("begin_mask"), rank, false)
	em := boolList(a.opt("end_mask"), rank, false)
	sm := boolList(a.opt("squeeze_mask"), rank, false)
	var shape, outShape []int
	starts := make([]int, rank)
	for d := 0; d < rank; d++ {
		n, st := x.Shape[d], stride[d]
		if st == 0 {
			return nil, fmt.Errorf("stride 0")
		}
		b, e := begin[d], end[d]
		if b < 0 {
			b += n
		}
		if e < 0 {
			e += n
		}
		if bm[d] {
			if st > 0 {
				b = 0
			} else {
				b = n - 1
			}
		}
		if em[d] {
			if st > 0 {
				e = n
			} else {
				e = -1
			}
		}
		if st < 0 {
			return nil, fmt.Errorf("negative strides are not supported")
		}
		if b < 0 {
			b = 0
		}
		if e > n {
			e = n
		}
		cnt := 0
		if e > b {
			cnt = (e - b + st - 1) / st
		}
		if sm[d] {
			cnt = 1
			e = b + 1
			if b >= n {
				return nil, fmt.Errorf("squeezed index %d out of range %d", b, n)
			}
		} else {
			outShape = append(outShape, cnt)
		}
		starts[d] = b
		shape = append(shape, cnt)
	}
	out := &Tensor{DType: x.DType, Shape: outShape, Data: make([]float32, numel(shape))}
	xs := strides(x.Shape)
	idx := make([]int, rank)
	for o := range out.Data {
		off := 0
		for d := 0; d < rank; d++ {
			off += (starts[d] + idx[d]*stride[d]) * xs[d]
		}
		out.Data[o] = x.Data[off]
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	if outShape == nil {
		out.Shape = []int{}
	}
	return []*Tensor{out}, nil
}

func opExpandDims(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	at, err := a.req("axes")
	if err != nil {
		return nil, err
	}
	rank := len(x.Shape) + len(at.Data)
	ins := map[int]bool{}
	for _, v := range at.ints() {
		ax, err := normAxis(v, rank)
		if err != nil {
			return nil, err
		}
		ins[ax] = true
	}
	shape := make([]int, 0, rank)
	j := 0
	for d := 0; d < rank; d++ {
		if ins[d] {
			shape = append(shape, 1)
		} else {
			if j >= len(x.Shape) {
				return nil, fmt.Errorf("duplicate axes %v", at.Data)
			}
			shape = append(shape, x.Shape[j])
			j++
		}
	}
	return []*Tensor{{DType: x.DType, Shape: shape, Data: x.Data}}, nil
}

func opSqueeze(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	drop := map[int]bool{}
	if at := a.opt("axes"); at != nil {
		for _, v := range at.ints() {
			ax, err := normAxis(v, len(x.Shape))
			if err != nil {
				return nil, err
			}
			if x.Shape[ax] != 1 {
				return nil, fmt.Errorf("cannot squeeze axis %d of shape %v", v, x.Shape)
			}
			drop[ax] = true
		}
	} else {
		for d, n := range x.Shape {
			if n == 1 {
				drop[d] = true
			}
		}
	}
	shape := []int{}
	for d, n := range x.Shape {
		if !drop[d] {
			shape = append(shape, n)
		}
	}
	return []*Tensor{{DType: x.DType, Shape: shape, Data: x.Data}}, nil
}

func opReshape(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	st, err := a.req("shape")
	if err != nil {
		return nil, err
	}
	shape := st.ints()
	infer, known := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d == 0 && i < len(x.Shape):
			shape[i] = x.Shape[i]
			known *= shape[i]
		case d < 0:
			return nil, fmt.Errorf("bad target shape %v", st.Data)
		default:
			known *= d
		}
	}
	n := len(x.Data)
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", x.Shape, st.Data)
		}
		shape[infer] = n / known
	}
	if numel(shape) != n {
		return nil, fmt.Errorf("cannot reshape %v to %v", x.Shape, st.Data)
	}
	return []*Tensor{{DType: x.DType, Shape: shape, Data: x.Data}}, nil
}

func opTranspose(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	pt, err := a.req("perm")
	if err != nil {
		return nil, err
	}
	rank := len(x.Shape)
	if len(pt.Data) != rank {
		return nil, fmt.Errorf("perm %v for rank %d", pt.Data, rank)
	}
	perm := make([]int, rank)
	seen := make([]bool, rank)
	for i, v := range pt.ints() {
		ax, err := normAxis(v, rank)
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, fmt.Errorf("perm %v repeats an axis", pt.Data)
		}
		seen[ax] = true
		perm[i] = ax
	}
	return []*Tensor{transpose(p, x, perm)}, nil
}

// transpose permutes x's axes; the innermost output run is copied with a fixed stride.
func transpose(p *Program, x *Tensor, perm []int) *Tensor {
	rank := len(x.Shape)
	shape := make([]int, rank)
	xs := strides(x.Shape)
	ps := make([]int, rank)
	for i, ax := range perm {
		shape[i] = x.Shape[ax]
		ps[i] = xs[ax]
	}
	out := &Tensor{DType: x.DType, Shape: shape, Data: make([]float32, len(x.Data))}
	if len(out.Data) == 0 {
		return out
	}
	if rank == 0 {
		copy(out.Data, x.Data)
		return out
	}
	inner := shape[rank-1]
	is := ps[rank-1]
	rows := len(out.Data) / inner
	outerShape := shape[:rank-1]
	work := func(r0, r1 int) {
		idx := make([]int, rank-1)
		rem := r0
		for d := rank - 2; d >= 0; d-- {
			idx[d] = rem % outerShape[d]
			rem /= outerShape[d]
		}
		for r := r0; r < r1; r++ {
			off := 0
			for d := 0; d < rank-1; d++ {
				off += idx[d] * ps[d]
			}
			dst := out.Data[r*inner : (r+1)*inner]
			if is == 1 {
				copy(dst, x.Data[off:off+inner])
			} else {
				for j := range dst {
					dst[j] = x.Data[off+j*is]
				}
			}
			for d := rank - 2; d >= 0; d-- {
				idx[d]++
				if idx[d] < outerShape[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
	const chunk = 256
	if rows < 2*chunk {
		work(0, rows)
		return out
	}
	p.k.Parallel((rows+chunk-1)/chunk, func(t int) {
		r1 := (t + 1) * chunk
		if r1 > rows {
			r1 = rows
		}
		work(t*chunk, r1)
	})
	return out
}

// prepareLinear packs a constant weight once.
func (p *Program) prepareLinear(s *step) error {
	wids := s.in["weight"]
	if len(wids) != 1 || p.consts[wids[0]] == nil {
		return nil
	}
	w := p.consts[wids[0]]
	if len(w.Shape) != 2 {
		return fmt.Errorf("weight of shape %v, want 2-D", w.Shape)
	}
	s.packed = kernels.PackNK(w.Data, w.Shape[0], w.Shape[1], w.Shape[1])
	if bids := s.in["bias"]; len(bids) == 1 && p.consts[bids[0]] != nil {
		b := p.consts[bids[0]]
		if len(b.Data) != w.Shape[0] {
			return fmt.Errorf("bias of shape %v for weight %v", b.Shape, w.Shape)
		}
		s.bias = s.packed.PadBias(b.Data)
	}
	return nil
}

func opLinear(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	w, err := a.req("weight")
	if err != nil {
		return nil, err
	}
	if len(w.Shape) != 2 || len(x.Shape) < 1 || x.Shape[len(x.Shape)-1] != w.Shape[1] {
		return nil, fmt.Errorf("x %v and weight %v do not match", x.Shape, w.Shape)
	}
	n, k := w.Shape[0], w.Shape[1]
	pk, bias := s.packed, s.bias
	if pk == nil {
		pk = kernels.PackNK(w.Data, n, k, k)
		if b := a.opt("bias"); b != nil {
			if len(b.Data) != n {
				return nil, fmt.Errorf("bias %v for weight %v", b.Shape, w.Shape)
			}
			bias = pk.PadBias(b.Data)
		}
	}
	shape := append(append([]int{}, x.Shape[:len(x.Shape)-1]...), n)
	out := &Tensor{DType: x.DType, Shape: shape, Data: make([]float32, numel(shape))}
	m := len(x.Data) / maxInt(k, 1)
	if k == 0 {
		m = numel(shape) / maxInt(n, 1)
	}
	p.k.MatMul(out.Data, n, x.Data, k, m, pk, bias)
	return []*Tensor{out}, nil
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func opMatmul(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	y, err := a.req("y")
	if err != nil {
		return nil, err
	}
	tx, ty := false, false
	if t := a.opt("transpose_x"); t != nil {
		tx, _ = t.boolean()
	}
	if t := a.opt("transpose_y"); t != nil {
		ty, _ = t.boolean()
	}
	if len(x.Shape) < 2 || len(y.Shape) < 2 {
		return nil, fmt.Errorf("rank-1 operands (%v, %v) are not supported", x.Shape, y.Shape)
	}
	xr, yr := len(x.Shape), len(y.Shape)
	m, kx := x.Shape[xr-2], x.Shape[xr-1]
	if tx {
		m, kx = kx, m
	}
	ky, n := y.Shape[yr-2], y.Shape[yr-1]
	if ty {
		ky, n = n, ky
	}
	if kx != ky {
		return nil, fmt.Errorf("inner dimensions of %v and %v differ", x.Shape, y.Shape)
	}
	batch, err := broadcastShape(x.Shape[:xr-2], y.Shape[:yr-2])
	if err != nil {
		return nil, err
	}
	shape := append(append([]int{}, batch...), m, n)
	out := &Tensor{DType: x.DType, Shape: shape, Data: make([]float32, numel(shape))}
	nb := numel(batch)
	xbs := bstrides(x.Shape[:xr-2], batch)
	ybs := bstrides(y.Shape[:yr-2], batch)
	bst := strides(batch)
	xm, ym := m*kx, kx*n
	p.k.Parallel(nb, func(bi int) {
		xo, yo := 0, 0
		rem := bi
		for d := range batch {
			i := rem / bst[d]
			rem %= bst[d]
			xo += i * xbs[d]
			yo += i * ybs[d]
		}
		xa := x.Data[xo*xm : xo*xm+xm]
		if tx {
			t := make([]float32, xm)
			for r := 0; r < kx; r++ {
				for c := 0; c < m; c++ {
					t[c*kx+r] = xa[r*m+c]
				}
			}
			xa = t
		}
		yb := y.Data[yo*ym : yo*ym+ym]
		var pk *kernels.Packed
		if ty { // y is n×k
			pk = kernels.PackNK(yb, n, kx, kx)
		} else { // y is k×n
			pk = kernels.PackKN(yb, kx, n, n)
		}
		p.k.MatMulSerial(out.Data[bi*m*n:(bi+1)*m*n], n, xa, kx, m, pk, nil)
	})
	return []*Tensor{out}, nil
}

// trailingAxes checks that axes are the last len(axes) axes and returns their extent.
func trailingAxes(at *Tensor, shape []int) (int, error) {
	rank := len(shape)
	axes := at.ints()
	for i := range axes {
		ax, err := normAxis(axes[i], rank)
		if err != nil {
			return 0, err
		}
		axes[i] = ax
	}
	sort.Ints(axes)
	n := 1
	for i, ax := range axes {
		if ax != rank-len(axes)+i {
			return 0, fmt.Errorf("normalizing over axes %v (not the trailing axes) is not supported", at.Data)
		}
		n *= shape[ax]
	}
	return n, nil
}

func opLayerNorm(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	inner := 0
	if at := a.opt("axes"); at != nil {
		if inner, err = trailingAxes(at, x.Shape); err != nil {
			return nil, err
		}
	} else {
		inner = len(x.Data)
	}
	eps := float32(1e-5)
	if t := a.opt("epsilon"); t != nil && len(t.Data) == 1 {
		eps = t.Data[0]
	}
	gamma, beta := make([]float32, inner), make([]float32, inner)
	for i := range gamma {
		gamma[i] = 1
	}
	if g := a.opt("gamma"); g != nil {
		if len(g.Data) != inner {
			return nil, fmt.Errorf("gamma %v for %d normalized values", g.Shape, inner)
		}
		gamma = g.Data
	}
	if b := a.opt("beta"); b != nil {
		if len(b.Data) != inner {
			return nil, fmt.Errorf("beta %v for %d normalized values", b.Shape, inner)
		}
		beta = b.Data
	}
	out := &Tensor{DType: x.DType, Shape: x.Shape, Data: append([]float32(nil), x.Data...)}
	if inner == 0 {
		return []*Tensor{out}, nil
	}
	rows := len(out.Data) / inner
	rowsParallel(p, rows, func(r int) { kernels.LayerNorm(out.Data[r*inner:(r+1)*inner], gamma, beta, eps) })
	return []*Tensor{out}, nil
}

// rowsParallel runs fn for every row, in chunks of rows on the pool.
func rowsParallel(p *Program, rows int, fn func(r int)) {
	const chunk = 64
	if rows <= chunk {
		for r := 0; r < rows; r++ {
			fn(r)
		}
		return
	}
	p.k.Parallel((rows+chunk-1)/chunk, func(t int) {
		r1 := (t + 1) * chunk
		if r1 > rows {
			r1 = rows
		}
		for r := t * chunk; r < r1; r++ {
			fn(r)
		}
	})
}

func opSoftmax(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	axis := -1
	if t := a.opt("axis"); t != nil {
		if axis, err = t.scalarInt(); err != nil {
			return nil, err
		}
	}
	if axis, err = normAxis(axis, len(x.Shape)); err != nil {
		return nil, err
	}
	if axis != len(x.Shape)-1 {
		// Move the axis last, softmax, move back.
		perm := make([]int, 0, len(x.Shape))
		for d := range x.Shape {
			if d != axis {
				perm = append(perm, d)
			}
		}
		perm = append(perm, axis)
		inv := make([]int, len(perm))
		for i, d := range perm {
			inv[d] = i
		}
		t := transpose(p, x, perm)
		softmaxRows(p, t.Data, t.Shape[len(t.Shape)-1])
		return []*Tensor{transpose(p, t, inv)}, nil
	}
	out := &Tensor{DType: x.DType, Shape: x.Shape, Data: append([]float32(nil), x.Data...)}
	softmaxRows(p, out.Data, x.Shape[axis])
	return []*Tensor{out}, nil
}

func softmaxRows(p *Program, data []float32, inner int) {
	if inner == 0 {
		return
	}
	rowsParallel(p, len(data)/inner, func(r int) { softmaxRow(p.k, data[r*inner:(r+1)*inner]) })
}

// softmaxRow is the kernel softmax, except that a row containing NaN or +Inf, or only
// -Inf, gives NaN as IEEE arithmetic (and Core ML) would, instead of whatever the
// vectorized max/exp happen to give.
func softmaxRow(k *kernels.Kernels, v []float32) {
	allNegInf := true
	for _, x := range v {
		if x != x || math.IsInf(float64(x), 1) {
			for i := range v {
				v[i] = float32(math.NaN())
			}
			return
		}
		if !math.IsInf(float64(x), -1) {
			allNegInf = false
		}
	}
	if allNegInf {
		for i := range v {
			v[i] = float32(math.NaN())
		}
		return
	}
	k.Softmax(v)
}

func opGelu(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("x")
	if err != nil {
		return nil, err
	}
	mode := "EXACT"
	if t := a.opt("mode"); t != nil {
		if mode, err = t.str(); err != nil {
			return nil, err
		}
	}
	out := &Tensor{DType: x.DType, Shape: x.Shape, Data: append([]float32(nil), x.Data...)}
	var fn func(v []float32)
	switch mode {
	case "EXACT":
		fn = p.k.GELU
	case "TANH_APPROXIMATION":
		fn = func(v []float32) {
			for i, x := range v {
				v[i] = float32(0.5 * float64(x) * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(float64(x)+0.044715*float64(x)*float64(x)*float64(x)))))
			}
		}
	case "SIGMOID_APPROXIMATION":
		fn = func(v []float32) {
			for i, x := range v {
				v[i] = float32(float64(x) / (1 + math.Exp(-1.702*float64(x))))
			}
		}
	default:
		return nil, fmt.Errorf("unknown gelu mode %q", mode)
	}
	const chunk = 16384
	n := len(out.Data)
	p.k.Parallel((n+chunk-1)/chunk, func(t int) {
		e := (t + 1) * chunk
		if e > n {
			e = n
		}
		fn(out.Data[t*chunk : e])
	})
	return []*Tensor{out}, nil
}

// perAxis returns, for element i of a tensor of shape, the index into a per-axis parameter
// (scale/zero point) of length len(param): 0 for scalars.
func perAxis(param *Tensor, shape []int, axisT *Tensor) (func(i int) int, error) {
	if param == nil || len(param.Data) == 1 {
		return func(int) int { return 0 }, nil
	}
	if axisT == nil {
		return nil, fmt.Errorf("vector scale/zero point of shape %v needs an axis", param.Shape)
	}
	axis, err := axisT.scalarInt()
	if err != nil {
		return nil, err
	}
	if axis, err = normAxis(axis, len(shape)); err != nil {
		return nil, err
	}
	if len(param.Data) != shape[axis] {
		return nil, fmt.Errorf("%d scale values for axis %d of shape %v", len(param.Data), axis, shape)
	}
	inner := numel(shape[axis+1:])
	n := shape[axis]
	return func(i int) int { return (i / inner) % n }, nil
}

func opQuantize(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("input")
	if err != nil {
		return nil, err
	}
	scale, err := a.req("scale")
	if err != nil {
		return nil, err
	}
	zp := a.opt("zero_point")
	ds, err := a.opt("output_dtype").str()
	if err != nil {
		return nil, fmt.Errorf("output_dtype: %w", err)
	}
	dt, _ := mlpackage.ParseDataType(ds)
	lo, hi, ok := intRange(dt)
	if !ok || (dt != mlpackage.Int8 && dt != mlpackage.UInt8) {
		return nil, fmt.Errorf("output_dtype %q is not int8 or uint8", ds)
	}
	si, err := perAxis(scale, x.Shape, a.opt("axis"))
	if err != nil {
		return nil, err
	}
	zi, err := perAxis(zp, x.Shape, a.opt("axis"))
	if err != nil {
		return nil, err
	}
	out := &Tensor{DType: dt, Shape: x.Shape, Data: make([]float32, len(x.Data))}
	for i, v := range x.Data {
		q := float64(v) / float64(scale.Data[si(i)])
		if zp != nil {
			q += float64(zp.Data[zi(i)])
		}
		q = math.RoundToEven(q)
		if q != q {
			return nil, fmt.Errorf("quantizing NaN at %d", i)
		}
		if q < lo {
			q = lo
		} else if q > hi {
			q = hi
		}
		out.Data[i] = float32(q)
	}
	return []*Tensor{out}, nil
}

func opDequantize(p *Program, s *step, a args) ([]*Tensor, error) {
	x, err := a.req("input")
	if err != nil {
		return nil, err
	}
	scale, err := a.req("scale")
	if err != nil {
		return nil, err
	}
	zp := a.opt("zero_point")
	si, err := perAxis(scale, x.Shape, a.opt("axis"))
	if err != nil {
		return nil, err
	}
	zi, err := perAxis(zp, x.Shape, a.opt("axis"))
	if err != nil {
		return nil, err
	}
	out := &Tensor{DType: scale.DType, Shape: x.Shape, Data: make([]float32, len(x.Data))}
	for i, v := range x.Data {
		if zp != nil {
			v -= zp.Data[zi(i)]
		}
		out.Data[i] = v * scale.Data[si(i)]
	}
	return []*Tensor{out}, nil
}

// blockIndex maps element i of shape to the index of its block parameter in a tensor of
// pshape, where each dimension of shape is an integer multiple of pshape's (iOS18 blockwise
// broadcasting: block size shape[d]/pshape[d] along every dimension).
func blockIndexer(shape, pshape []int) (func(i int) int, error) {
	if len(pshape) != len(shape) {
		return nil, fmt.Errorf("parameter of rank %d for data of rank %d", len(pshape), len(shape))
	}
	block := make([]int, len(shape))
	for d := range shape {
		if pshape[d] <= 0 || shape[d]%pshape[d] != 0 {
			return nil, fmt.Errorf("parameter shape %v does not divide data shape %v", pshape, shape)
		}
		block[d] = shape[d] / pshape[d]
	}
	ps := strides(pshape)
	rank := len(shape)
	return func(i int) int {
		off := 0
		for d := rank - 1; d >= 0; d-- {
			c := i % shape[d]
			i /= shape[d]
			off += c / block[d] * ps[d]
		}
		return off
	}, nil
}

func opBlockwiseShiftScale(p *Program, s *step, a args) ([]*Tensor, error) {
	data, err := a.req("data")
	if err != nil {
		return nil, err
	}
	scale, err := a.req("scale")
	if err != nil {
		return nil, err
	}
	si, err := blockIndexer(data.Shape, scale.Shape)
	if err != nil {
		return nil, fmt.Errorf("scale: %w", err)
	}
	off := a.opt("offset")
	var oi func(int) int
	if off != nil {
		if oi, err = blockIndexer(data.Shape, off.Shape); err != nil {
			return nil, fmt.Errorf("offset: %w", err)
		}
	}
	out := &Tensor{DType: scale.DType, Shape: data.Shape, Data: make([]float32, len(data.Data))}
	for i, v := range data.Data {
		if off != nil {
			v -= off.Data[oi(i)]
		}
		out.Data[i] = v * scale.Data[si(i)]
	}
	return []*Tensor{out}, nil
}

func opLutToDense(p *Program, s *step, a args) ([]*Tensor, error) {
	ind, err := a.req("indices")
	if err != nil {
		return nil, err
	}
	lut, err := a.req("lut")
	if err != nil {
		return nil, err
	}
	if a.opt("shape") != nil {
		return nil, fmt.Errorf("the iOS16 form of constexpr_lut_to_dense (packed indices with a shape) is not supported")
	}
	rank := len(ind.Shape)
	if len(lut.Shape) != rank+2 {
		return nil, fmt.Errorf("lut of shape %v for indices of rank %d", lut.Shape, rank)
	}
	entries, vec := lut.Shape[rank], lut.Shape[rank+1]
	if vec != 1 {
		return nil, fmt.Errorf("vector palettization (vector size %d) is not supported", vec)
	}
	gi, err := blockIndexer(ind.Shape, lut.Shape[:rank])
	if err != nil {
		return nil, fmt.Errorf("lut: %w", err)
	}
	out := &Tensor{DType: lut.DType, Shape: ind.Shape, Data: make([]float32, len(ind.Data))}
	for i, v := range ind.Data {
		k := int(v)
		if k < 0 || k >= entries {
			return nil, fmt.Errorf("index %v at %d outside the %d-entry palette", v, i, entries)
		}
		out.Data[i] = lut.Data[gi(i)*entries+k]
	}
	return []*Tensor{out}, nil
}

func opAffineDequantize(p *Program, s *step, a args) ([]*Tensor, error) {
	q, err := a.req("quantized_data")
	if err != nil {
		return nil, err
	}
	scale, err := a.req("scale")
	if err != nil {
		return nil, err
	}
	zp, err := a.req("zero_point")
	if err != nil {
		return nil, err
	}
	si, err := perAxis(scale, q.Shape, a.opt("axis"))
	if err != nil {
		return nil, err
	}
	zi, err := perAxis(zp, q.Shape, a.opt("axis"))
	if err != nil {
		return nil, err
	}
	out := &Tensor{DType: scale.DType, Shape: q.Shape, Data: make([]float32, len(q.Data))}
	for i, v := range q.Data {
		out.Data[i] = (v - zp.Data[zi(i)]) * scale.Data[si(i)]
	}
	return []*Tensor{out}, nil
}
