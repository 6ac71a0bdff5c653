package mil

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"

	"github.com/minilm-coreml/minilm/go/internal/float16"
	"github.com/minilm-coreml/minilm/go/internal/kernels"
	"github.com/minilm-coreml/minilm/go/mlpackage"
)

// Option configures Load.
type Option func(*options)

type options struct {
	fp16     bool
	threads  int
	function string
	kernels  *kernels.Kernels
}

// WithFP16 rounds every floating-point constant and intermediate result to float16.
func WithFP16(on bool) Option { return func(o *options) { o.fp16 = on } }

// WithThreads sets the size of the kernel worker pool (default GOMAXPROCS).
func WithThreads(n int) Option { return func(o *options) { o.threads = n } }

// WithFunction runs another function of the program than "main".
func WithFunction(name string) Option { return func(o *options) { o.function = name } }

// WithKernels shares an existing kernel set (and its worker pool) instead of starting one.
func WithKernels(k *kernels.Kernels) Option { return func(o *options) { o.kernels = k } }

// Program is a loaded, ready-to-run MIL function. It is safe for concurrent use.
type Program struct {
	inputs    []string // function input names, in order
	inputIDs  []int
	inputType []*mlpackage.TensorType
	outputs   []string
	outputIDs []int
	consts    []*Tensor // per variable id: the constant value, or nil
	steps     []*step
	nvars     int
	lastUse   []int // per variable id: index of the last step reading it (-1: none/output)
	fp16      bool
	k         *kernels.Kernels
	ownK      bool
	// Ops counts the operation types of the function (constexpr and const included).
	Ops map[string]int
}

// step is one runtime operation.
type step struct {
	index   int
	typ     string
	name    string
	in      map[string][]int // variable ids of each input
	out     []int
	outType []*mlpackage.TensorType
	fn      opFunc
	// linear with a constant weight: packed once.
	packed *kernels.Packed
	bias   []float32
}

func (s *step) where() string {
	return fmt.Sprintf("operation #%d %s %q", s.index, s.typ, s.name)
}

// UnsupportedOpError reports operations Load cannot run.
type UnsupportedOpError struct {
	Ops []string // "type (operation #i "name")" per distinct type
}

// Error implements error.
func (e *UnsupportedOpError) Error() string {
	return "mil: unsupported operation(s): " + strings.Join(e.Ops, ", ")
}

// Load prepares the package's main function: constants are materialized, constexpr
// decompression ops evaluated and constant Linear weights packed for the GEMM kernel.
func Load(pkg *mlpackage.Package, opts ...Option) (*Program, error) {
	o := options{function: "main", threads: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		opt(&o)
	}
	if pkg.Model == nil || pkg.Model.Program == nil {
		return nil, fmt.Errorf("mil: %s is not an ML Program", pkg.Dir)
	}
	fn, ok := pkg.Model.Program.Functions[o.function]
	if !ok {
		return nil, fmt.Errorf("mil: program has no function %q", o.function)
	}
	blk, err := fn.Block()
	if err != nil {
		return nil, err
	}
	p := &Program{fp16: o.fp16, Ops: map[string]int{}}
	if o.kernels != nil {
		p.k = o.kernels
	} else {
		p.k, p.ownK = kernels.NewKernels(o.threads), true
	}
	ok = false
	defer func() {
		if !ok && p.ownK {
			p.k.Close()
		}
	}()
	ids := map[string]int{}
	newVar := func(c *Tensor) int {
		p.consts = append(p.consts, c)
		return len(p.consts) - 1
	}
	for _, in := range fn.Inputs {
		if in.Type == nil || in.Type.Tensor == nil {
			return nil, fmt.Errorf("mil: function input %q is not a tensor", in.Name)
		}
		id := newVar(nil)
		ids[in.Name] = id
		p.inputs = append(p.inputs, in.Name)
		p.inputIDs = append(p.inputIDs, id)
		p.inputType = append(p.inputType, in.Type.Tensor)
	}
	var unsupported []string
	seenUnsupported := map[string]bool{}
	for i, op := range blk.Operations {
		p.Ops[op.Type]++
		where := fmt.Sprintf("operation #%d %s %q", i, op.Type, op.Name())
		if op.Type == "const" {
			if len(op.Outputs) != 1 {
				return nil, fmt.Errorf("mil: %s: %d outputs", where, len(op.Outputs))
			}
			c, err := pkg.ConstValue(op.Attributes["val"])
			if err != nil {
				return nil, fmt.Errorf("mil: %s: %w", where, err)
			}
			ids[op.Outputs[0].Name] = newVar(p.constTensor(c))
			continue
		}
		fnc, known := opTable[op.Type]
		if !known {
			if !seenUnsupported[op.Type] {
				seenUnsupported[op.Type] = true
				unsupported = append(unsupported, fmt.Sprintf("%s (%s)", op.Type, where))
			}
			for _, out := range op.Outputs {
				ids[out.Name] = newVar(nil)
			}
			continue
		}
		s := &step{index: i, typ: op.Type, name: op.Name(), in: map[string][]int{}, fn: fnc}
		allConst := true
		for name, binds := range op.Inputs {
			for _, b := range binds {
				var id int
				if b.Value != nil {
					c, err := pkg.ConstValue(b.Value)
					if err != nil {
						return nil, fmt.Errorf("mil: %s: input %s: %w", where, name, err)
					}
					id = newVar(p.constTensor(c))
				} else {
					var ok bool
					id, ok = ids[b.Name]
					if !ok {
						return nil, fmt.Errorf("mil: %s: input %s refers to undefined variable %q", where, name, b.Name)
					}
				}
				if p.consts[id] == nil {
					allConst = false
				}
				s.in[name] = append(s.in[name], id)
			}
		}
		if strings.HasPrefix(op.Type, "constexpr_") {
			// Up to the iOS 17 opset (specification version 8) constexpr ops hold their
			// operands as attributes, not inputs: coremltools 9.0's
			// converters/mil/backend/mil/load.py translate_constexpr writes
			// attributes[param] for opset_version <= _SPECIFICATION_VERSION_IOS_17. This is
			// how int8 weights (constexpr_affine_dequantize) of a macOS 14 package arrive.
			for name, v := range op.Attributes {
				if name == "name" || s.in[name] != nil {
					continue
				}
				c, err := pkg.ConstValue(v)
				if err != nil {
					return nil, fmt.Errorf("mil: %s: attribute %s: %w", where, name, err)
				}
				s.in[name] = []int{newVar(p.constTensor(c))}
			}
		}
		for _, out := range op.Outputs {
			var tt *mlpackage.TensorType
			if out.Type != nil {
				tt = out.Type.Tensor
			}
			s.outType = append(s.outType, tt)
		}
		if strings.HasPrefix(op.Type, "constexpr_") || (allConst && foldable[op.Type]) {
			// Evaluate once, now.
			if !allConst {
				return nil, fmt.Errorf("mil: %s: constexpr op with a non-constant input", where)
			}
			outs, err := p.runStep(s, func(id int) *Tensor { return p.consts[id] })
			if err != nil {
				return nil, err
			}
			for _, t := range outs {
				// A decompressed weight declared float16 is float16 on the device.
				if t.DType == mlpackage.Float16 {
					roundFP16(t.Data)
				}
			}
			for j, out := range op.Outputs {
				ids[out.Name] = newVar(outs[j])
			}
			continue
		}
		for _, out := range op.Outputs {
			id := newVar(nil)
			ids[out.Name] = id
			s.out = append(s.out, id)
		}
		if op.Type == "linear" {
			if err := p.prepareLinear(s); err != nil {
				return nil, fmt.Errorf("mil: %s: %w", where, err)
			}
		}
		p.steps = append(p.steps, s)
	}
	if len(unsupported) > 0 {
		return nil, &UnsupportedOpError{Ops: unsupported}
	}
	for _, name := range blk.Outputs {
		id, ok := ids[name]
		if !ok {
			return nil, fmt.Errorf("mil: block output %q is not defined", name)
		}
		p.outputs = append(p.outputs, name)
		p.outputIDs = append(p.outputIDs, id)
	}
	p.nvars = len(p.consts)
	p.lastUse = make([]int, p.nvars)
	for i := range p.lastUse {
		p.lastUse[i] = -1
	}
	for si, s := range p.steps {
		for _, idl := range s.in {
			for _, id := range idl {
				p.lastUse[id] = si
			}
		}
	}
	for _, id := range p.outputIDs {
		p.lastUse[id] = len(p.steps) // keep
	}
	ok = true
	return p, nil
}

// foldable ops are evaluated at load when all their inputs are constant.
var foldable = map[string]bool{
	"add": true, "sub": true, "mul": true, "real_div": true, "cast": true, "reshape": true,
	"transpose": true, "expand_dims": true, "concat": true, "gather": true, "slice_by_index": true,
	"squeeze": true, "identity": true, "dequantize": true, "shape": true,
}

func (p *Program) constTensor(c *mlpackage.Const) *Tensor {
	t := &Tensor{DType: c.DataType, Shape: c.Shape, Data: c.Values, Strs: c.Strings}
	if p.fp16 && c.DataType.IsFloat() {
		d := make([]float32, len(t.Data))
		for i, v := range t.Data {
			d[i] = float16.Round(v)
		}
		t.Data = d
	}
	return t
}

// Close releases the kernel workers (unless shared through WithKernels).
func (p *Program) Close() {
	if p.ownK {
		p.k.Close()
	}
}

// Inputs names the function's inputs in order.
func (p *Program) Inputs() []string { return append([]string(nil), p.inputs...) }

// Outputs names the function's outputs in order.
func (p *Program) Outputs() []string { return append([]string(nil), p.outputs...) }

// OpTypes lists the operation types of the function, sorted.
func (p *Program) OpTypes() []string {
	var out []string
	for t := range p.Ops {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Run executes the function on the named inputs and returns its outputs by name.
func (p *Program) Run(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	env := make([]*Tensor, p.nvars)
	for i, name := range p.inputs {
		t, ok := inputs[name]
		if !ok || t == nil {
			return nil, fmt.Errorf("mil: missing input %q", name)
		}
		tt := p.inputType[i]
		if int64(len(t.Shape)) != tt.Rank || len(t.Data) != t.Numel() {
			return nil, fmt.Errorf("mil: input %q has shape %v (%d values), the function takes rank %d", name, t.Shape, len(t.Data), tt.Rank)
		}
		for d, dim := range tt.Dims {
			if dim.Known && uint64(t.Shape[d]) != dim.Size {
				return nil, fmt.Errorf("mil: input %q has shape %v, dimension %d must be %d", name, t.Shape, d, dim.Size)
			}
		}
		env[p.inputIDs[i]] = t
	}
	get := func(id int) *Tensor {
		if c := p.consts[id]; c != nil {
			return c
		}
		return env[id]
	}
	for si, s := range p.steps {
		outs, err := p.runStep(s, get)
		if err != nil {
			return nil, err
		}
		for j, id := range s.out {
			env[id] = outs[j]
		}
		for _, idl := range s.in {
			for _, id := range idl {
				if p.lastUse[id] == si && p.consts[id] == nil {
					env[id] = nil
				}
			}
		}
	}
	res := map[string]*Tensor{}
	for i, name := range p.outputs {
		t := get(p.outputIDs[i])
		if t == nil {
			return nil, fmt.Errorf("mil: output %q was not computed", name)
		}
		res[name] = t
	}
	return res, nil
}

// runStep evaluates one operation, converting a panic (a bug, or a program this package
// misreads) into an error naming the operation.
func (p *Program) runStep(s *step, get func(int) *Tensor) (outs []*Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, fmt.Errorf("mil: %s: internal error: %v", s.where(), r)
		}
	}()
	a := args{}
	for name, idl := range s.in {
		ts := make([]*Tensor, len(idl))
		for i, id := range idl {
			ts[i] = get(id)
			if ts[i] == nil {
				return nil, fmt.Errorf("mil: %s: input %s is not available", s.where(), name)
			}
		}
		a[name] = ts
	}
	outs, err = s.fn(p, s, a)
	if err != nil {
		return nil, fmt.Errorf("mil: %s: %w", s.where(), err)
	}
	if len(outs) != len(s.outType) {
		return nil, fmt.Errorf("mil: %s: produced %d outputs, declared %d", s.where(), len(outs), len(s.outType))
	}
	for i, t := range outs {
		if tt := s.outType[i]; tt != nil {
			t.DType = tt.DataType
			if int64(len(t.Shape)) != tt.Rank {
				return nil, fmt.Errorf("mil: %s: output %d has rank %d, declared %d", s.where(), i, len(t.Shape), tt.Rank)
			}
		}
		if p.fp16 && t.DType.IsFloat() {
			p.roundParallel(t.Data)
		}
	}
	return outs, nil
}

// roundParallel is roundFP16 on the worker pool.
func (p *Program) roundParallel(v []float32) {
	const chunk = 1 << 15
	if len(v) <= chunk {
		roundFP16(v)
		return
	}
	p.k.Parallel((len(v)+chunk-1)/chunk, func(t int) {
		e := (t + 1) * chunk
		if e > len(v) {
			e = len(v)
		}
		roundFP16(v[t*chunk : e])
	})
}

// roundFP16 rounds every value to float16 precision in place (float16.Round for
// each value, with a bit-twiddling fast path for values in float16's normal range).
func roundFP16(v []float32) {
	for i, x := range v {
		b := math.Float32bits(x)
		e := (b >> 23) & 0xff
		if e < 127-14 || e > 127+15 { // subnormal in float16, zero, overflow, Inf, NaN
			v[i] = float16.Round(x)
			continue
		}
		// Round the 23-bit mantissa to 10 bits, ties to even; a carry into the exponent is
		// the correct result, and past 65504 it becomes Inf below.
		b += 0xfff + (b>>13)&1
		b &^= 0x1fff
		if (b>>23)&0xff > 127+15 {
			b = b&0x80000000 | 0x7f800000
		}
		v[i] = math.Float32frombits(b)
	}
}

// args are an operation's resolved inputs.
type args map[string][]*Tensor

func (a args) opt(name string) *Tensor {
	if ts := a[name]; len(ts) == 1 {
		return ts[0]
	}
	return nil
}

func (a args) req(name string) (*Tensor, error) {
	if t := a.opt(name); t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("missing input %q", name)
}

type opFunc func(p *Program, s *step, a args) ([]*Tensor, error)
