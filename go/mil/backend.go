package mil

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/backend/coreml"
	"github.com/minilm-coreml/minilm/go/mlpackage"
	"github.com/minilm-coreml/minilm/go/plan"
)

// TokenTypeIDs is the name of an optional token-type input (the converted packages fix the
// token types inside and do not have it). The other feature names are package coreml's
// (coreml.InputIDsName, coreml.AttentionMaskName, coreml.OutputName), shared by every engine
// that runs the converted model.
const TokenTypeIDs = "token_type_ids"

// Backend runs a converted encoder package through the executor. It implements
// backend.Backend and is safe for concurrent use.
//
// Both interfaces of the converter (python/minilm_convert, --inputs) are accepted: two
// inputs (input_ids and attention_mask), or input_ids alone, into which Forward writes the
// padded batch with coreml.SingleInputIDs, the encoding the single-input program expects.
type Backend struct {
	Package *mlpackage.Package
	Program *Program
	name    string
	shapes  plan.ShapeSet
	hidden  int
	single  bool // the program takes input_ids only (no attention_mask)
	types   bool // the program takes token_type_ids
	closed  int32
}

var _ backend.Backend = (*Backend)(nil)

// NewBackend opens the .mlpackage at path and loads its main function.
func NewBackend(path string, opts ...Option) (*Backend, error) {
	pkg, err := mlpackage.Open(path)
	if err != nil {
		return nil, err
	}
	return NewBackendFromPackage(pkg, opts...)
}

// NewBackendFromPackage is NewBackend for an already opened (possibly modified) package.
func NewBackendFromPackage(pkg *mlpackage.Package, opts ...Option) (*Backend, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	prog, err := Load(pkg, opts...)
	if err != nil {
		return nil, err
	}
	b := &Backend{Package: pkg, Program: prog}
	fail := func(err error) (*Backend, error) {
		prog.Close()
		return nil, err
	}
	var idsFeat *mlpackage.Feature
	hasMask := false
	for i := range pkg.Model.Description.Inputs {
		f := &pkg.Model.Description.Inputs[i]
		switch f.Name {
		case coreml.InputIDsName:
			idsFeat = f
		case coreml.AttentionMaskName:
			hasMask = true
		case TokenTypeIDs:
			b.types = true
		default:
			return fail(fmt.Errorf("mil: %s has an unknown input %q", pkg.Dir, f.Name))
		}
	}
	if idsFeat == nil || idsFeat.Array == nil {
		return fail(fmt.Errorf("mil: %s has no multi-array input %q", pkg.Dir, coreml.InputIDsName))
	}
	b.single = !hasMask
	if b.shapes, err = ShapeSet(idsFeat.Array); err != nil {
		return fail(fmt.Errorf("mil: %s: %w", pkg.Dir, err))
	}
	if b.hidden, err = outputWidth(pkg); err != nil {
		return fail(err)
	}
	mode := "fp32"
	if o.fp16 {
		mode = "fp16"
	}
	b.name = fmt.Sprintf("mil(%s,%s)", strings.TrimSuffix(filepath.Base(filepath.Clean(pkg.Dir)), ".mlpackage"), mode)
	return b, nil
}

// SingleInput reports whether the package takes input_ids alone (the mask derived inside).
func (b *Backend) SingleInput() bool { return b.single }

// outputWidth reads the last dimension of the declared output type.
func outputWidth(pkg *mlpackage.Package) (int, error) {
	fn := pkg.Model.Program.Functions["main"]
	blk, err := fn.Block()
	if err != nil {
		return 0, err
	}
	for _, op := range blk.Operations {
		for _, out := range op.Outputs {
			if out.Name == coreml.OutputName && out.Type != nil && out.Type.Tensor != nil {
				d := out.Type.Tensor.Dims
				if len(d) == 3 && d[2].Known {
					return int(d[2].Size), nil
				}
			}
		}
	}
	return 0, fmt.Errorf("mil: %s: output %q is not declared as (batch, seq, hidden) with a known hidden size", pkg.Dir, coreml.OutputName)
}

// ShapeSet turns an input's shape constraints into the planner's shape set: enumerated
// shapes as plan.Enumerated, a shape range as plan.Ranges (an unbounded batch is capped at 64
// and an unbounded sequence at 512, the model's position limit), a fixed shape as a
// one-element plan.Enumerated.
func ShapeSet(a *mlpackage.ArrayType) (plan.ShapeSet, error) {
	switch {
	case len(a.EnumeratedShapes) > 0:
		var e plan.Enumerated
		for _, s := range a.EnumeratedShapes {
			if len(s) != 2 {
				return nil, fmt.Errorf("enumerated shape %v is not (batch, seq)", s)
			}
			e = append(e, plan.Shape{Batch: int(s[0]), Seq: int(s[1])})
		}
		return e, e.Validate()
	case len(a.ShapeRange) > 0:
		if len(a.ShapeRange) != 2 {
			return nil, fmt.Errorf("shape range of rank %d, want (batch, seq)", len(a.ShapeRange))
		}
		up := func(r mlpackage.SizeRange, def int) int {
			if r.Upper < 0 {
				return def
			}
			return int(r.Upper)
		}
		r := plan.Ranges{
			BatchMin: int(a.ShapeRange[0].Lower), BatchMax: up(a.ShapeRange[0], 64),
			SeqMin: int(a.ShapeRange[1].Lower), SeqMax: up(a.ShapeRange[1], 512),
		}
		return r, r.Validate()
	case len(a.Shape) == 2:
		e := plan.Enumerated{{Batch: int(a.Shape[0]), Seq: int(a.Shape[1])}}
		return e, e.Validate()
	}
	return nil, fmt.Errorf("input shape %v has no (batch, seq) constraint", a.Shape)
}

// Name implements backend.Backend, e.g. "mil(v_default,fp16)".
func (b *Backend) Name() string { return b.name }

// Shapes implements backend.Backend: the package's own shape constraints, so batches are
// padded exactly as Core ML would pad them.
func (b *Backend) Shapes() plan.ShapeSet { return b.shapes }

// HiddenSize implements backend.Backend.
func (b *Backend) HiddenSize() int { return b.hidden }

// Close implements backend.Backend.
func (b *Backend) Close() error {
	if atomic.CompareAndSwapInt32(&b.closed, 0, 1) {
		b.Program.Close()
	}
	return nil
}

// scoreBudget bounds rows·seq² per program run (attention scores are heads·rows·seq²
// floats); rows are independent in the encoder, so a batch runs in slices of rows.
const scoreBudget = 1 << 20

// Forward implements backend.Backend. Only the first in.Rows rows are computed (the rest
// are padding); the sequence padding is kept, as Core ML would see it.
func (b *Backend) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	if atomic.LoadInt32(&b.closed) != 0 {
		return fmt.Errorf("mil: backend is closed")
	}
	seq := in.Shape.Seq
	if in.Rows < 0 || in.Rows > in.Shape.Batch || len(in.IDs) < in.Rows*seq || len(in.Mask) < in.Rows*seq {
		return fmt.Errorf("mil: bad input: %d rows of shape %v with %d ids, %d mask values", in.Rows, in.Shape, len(in.IDs), len(in.Mask))
	}
	if len(out) < in.Rows*seq*b.hidden {
		return fmt.Errorf("mil: output holds %d values, need %d", len(out), in.Rows*seq*b.hidden)
	}
	step := 1
	if seq > 0 {
		step = scoreBudget / (seq * seq)
	}
	if step < 1 {
		step = 1
	}
	for r0 := 0; r0 < in.Rows; r0 += step {
		if err := ctx.Err(); err != nil {
			return err
		}
		r1 := r0 + step
		if r1 > in.Rows {
			r1 = in.Rows
		}
		ids, mask := in.IDs[r0*seq:r1*seq], in.Mask[r0*seq:r1*seq]
		feeds := map[string]*Tensor{}
		if b.single {
			enc := make([]int32, len(ids))
			coreml.SingleInputIDs(enc, ids, mask)
			feeds[coreml.InputIDsName] = intTensor(enc, r1-r0, seq)
		} else {
			feeds[coreml.InputIDsName] = intTensor(ids, r1-r0, seq)
			feeds[coreml.AttentionMaskName] = intTensor(mask, r1-r0, seq)
		}
		if b.types {
			if in.TypeIDs != nil {
				feeds[TokenTypeIDs] = intTensor(in.TypeIDs[r0*seq:r1*seq], r1-r0, seq)
			} else {
				feeds[TokenTypeIDs] = NewTensor(mlpackage.Int32, []int{r1 - r0, seq})
			}
		}
		res, err := b.Program.Run(feeds)
		if err != nil {
			return err
		}
		h := res[coreml.OutputName]
		if h == nil || len(h.Shape) != 3 || h.Shape[0] != r1-r0 || h.Shape[1] != seq || h.Shape[2] != b.hidden {
			return fmt.Errorf("mil: output %q has shape %v, want [%d %d %d]", coreml.OutputName, shapeOf(h), r1-r0, seq, b.hidden)
		}
		copy(out[r0*seq*b.hidden:r1*seq*b.hidden], h.Data)
	}
	return nil
}

func shapeOf(t *Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}

func intTensor(v []int32, rows, seq int) *Tensor {
	t := NewTensor(mlpackage.Int32, []int{rows, seq})
	for i, x := range v {
		t.Data[i] = float32(x)
	}
	return t
}
