//go:build darwin && cgo

package coreml

import (
	"errors"
	"fmt"
	"sort"
	"unsafe"

	"github.com/minilm-coreml/minilm/go/plan"
	ml "github.com/progrium/darwinkit/macos/coreml"
	"github.com/progrium/darwinkit/macos/foundation"
	"github.com/progrium/darwinkit/objc"
)

// Available reports whether this build can run Core ML: true on darwin with cgo. Whether a
// model exists is the caller's question; New reports a missing model with an error that
// matches fs.ErrNotExist.
func Available() bool { return true }

// New loads the model at modelPath and returns a backend that runs it.
//
// modelPath is a compiled .mlmodelc directory, or an .mlpackage (or .mlmodel) that is
// compiled on first use with +[MLModel compileModelAtURL:error:] and cached (see
// WithCacheDir). The allowed input shapes are read from the model description.
func New(modelPath string, opts ...Option) (*Backend, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	compiled, err := resolveModel(modelPath, cfg.cacheDir, compileModel)
	if err != nil {
		return nil, err
	}
	var (
		preds  []predictor
		shapes plan.ShapeSet
		hidden int
	)
	fail := func(err error) (*Backend, error) {
		for _, p := range preds {
			p.Close()
		}
		return nil, err
	}
	for i := 0; i < cfg.instances; i++ {
		m, err := loadModel(compiled, cfg.units)
		if err != nil {
			return fail(fmt.Errorf("coreml: loading %s (instance %d, %v): %w", compiled, i, cfg.units, err))
		}
		preds = append(preds, m)
		if i == 0 {
			if shapes, hidden, err = m.describe(); err != nil {
				return fail(fmt.Errorf("coreml: model %s: %w", compiled, err))
			}
		}
	}
	b, err := newBackend(fmt.Sprintf("coreml(%s)", cfg.units), shapes, hidden, preds)
	if err != nil {
		return fail(err)
	}
	return b, nil
}

// inPool runs f inside an autorelease pool, so that the autoreleased objects darwinkit
// creates (arguments, results, blocks, NSErrors) are freed when f returns. A panic (darwinkit
// panics on nil receivers and unsupported conversions) becomes an error instead of unwinding
// through the pool's Objective-C frames.
func inPool(f func() error) (err error) {
	objc.WithAutoreleasePool(func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("darwinkit panic: %v", r)
			}
		}()
		err = f()
	})
	return err
}

// nsError converts the NSError an ...error: method stored (nil if none). It must be called
// inside the pool that was active during the call, since the NSError is autoreleased.
func nsError(e foundation.Error, op string) error {
	if err := foundation.ToGoError(e); err != nil {
		return fmt.Errorf("%s: %w (domain %s)", op, err, e.Domain())
	}
	return nil
}

// nums converts sizes to NSNumbers. NumberWithInteger takes an NSInteger; NumberWithInt would
// pass 64 bits to a C int.
func nums(v ...int) []foundation.INumber {
	out := make([]foundation.INumber, len(v))
	for i, x := range v {
		out[i] = foundation.Number_NumberWithInteger(x)
	}
	return out
}

func ints(ns []foundation.Number) []int {
	out := make([]int, len(ns))
	for i, n := range ns {
		out[i] = n.IntegerValue()
	}
	return out
}

// compileModel compiles an .mlpackage or .mlmodel into a temporary .mlmodelc.
// +compileModelAtURL:error: is not bound in darwinkit v0.5.0, so it is sent with objc.Call.
func compileModel(src string) (string, error) {
	var out string
	err := inPool(func() error {
		var e foundation.Error
		url := objc.Call[foundation.URL](ml.ModelClass, objc.Sel("compileModelAtURL:error:"),
			foundation.URL_FileURLWithPath(src), unsafe.Pointer(&e))
		if err := nsError(e, "compileModelAtURL:error:"); err != nil {
			return err
		}
		if url.IsNil() {
			return errors.New("compileModelAtURL:error: returned nil without an error")
		}
		out = url.Path()
		return nil
	})
	return out, err
}

// mlModel is one loaded MLModel. It implements predictor.
type mlModel struct {
	model  ml.Model // retained by loadModel, released by Close
	closed bool
}

func loadModel(path string, units ComputeUnits) (*mlModel, error) {
	m := &mlModel{}
	err := inPool(func() error {
		conf := ml.NewModelConfiguration()
		// CPUAndNeuralEngine (3, macOS 13) has no constant in darwinkit v0.5.0.
		conf.SetComputeUnits(ml.ComputeUnits(units))
		var e foundation.Error
		model := ml.Model_ModelWithContentsOfURLConfigurationError(foundation.URL_FileURLWithPath(path), conf, unsafe.Pointer(&e))
		if err := nsError(e, "modelWithContentsOfURL:configuration:error:"); err != nil {
			return err
		}
		if model.IsNil() {
			return errors.New("modelWithContentsOfURL:configuration:error: returned nil without an error")
		}
		// The factory's result is autoreleased: keep it past the pool. Released in Close, not
		// by a finalizer, so that memory is returned deterministically.
		model.Retain()
		m.model = model
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Close implements predictor.
func (m *mlModel) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	return inPool(func() error {
		m.model.Release()
		return nil
	})
}

// describe reads the allowed input shapes and the hidden size from the model description.
func (m *mlModel) describe() (plan.ShapeSet, int, error) {
	var (
		set    plan.ShapeSet
		hidden = HiddenSize
	)
	err := inPool(func() error {
		desc := m.model.ModelDescription()
		inputs := desc.InputDescriptionsByName()
		var cons [2]ShapeConstraint
		for i, name := range []string{InputIDsName, AttentionMaskName} {
			fd, ok := inputs[name]
			if !ok {
				return fmt.Errorf("model has no input %q (inputs: %v)", name, featureNames(inputs))
			}
			c, err := shapeConstraintOf(name, fd)
			if err != nil {
				return err
			}
			cons[i] = c
		}
		var err error
		if set, err = shapeSetFromConstraints(cons[0], cons[1]); err != nil {
			return err
		}
		outputs := desc.OutputDescriptionsByName()
		od, ok := outputs[OutputName]
		if !ok {
			return fmt.Errorf("model has no output %q (outputs: %v)", OutputName, featureNames(outputs))
		}
		if od.Type() != ml.FeatureTypeMultiArray {
			return fmt.Errorf("output %s is feature type %d, want a multi-array", OutputName, od.Type())
		}
		oc := od.MultiArrayConstraint()
		switch oc.DataType() {
		case ml.MultiArrayDataTypeFloat32, ml.MultiArrayDataTypeFloat16:
		default:
			return fmt.Errorf("output %s has data type %d, want Float32 or Float16", OutputName, oc.DataType())
		}
		if sh := ints(oc.Shape()); len(sh) == 3 && sh[2] > 0 {
			hidden = sh[2]
		}
		if hidden != HiddenSize {
			return fmt.Errorf("output %s has hidden size %d, want %d (all-MiniLM-L6-v2)", OutputName, hidden, HiddenSize)
		}
		return nil
	})
	return set, hidden, err
}

func featureNames(m map[string]ml.FeatureDescription) []string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// nsRangeUnbounded: a range length at least this large means "no upper bound".
const nsRangeUnbounded = 1 << 40

func shapeConstraintOf(name string, fd ml.FeatureDescription) (ShapeConstraint, error) {
	if fd.Type() != ml.FeatureTypeMultiArray {
		return ShapeConstraint{}, fmt.Errorf("input %s is feature type %d, want a multi-array", name, fd.Type())
	}
	mc := fd.MultiArrayConstraint()
	if mc.DataType() != ml.MultiArrayDataTypeInt32 {
		return ShapeConstraint{}, fmt.Errorf("input %s has data type %d, want Int32 (%d)", name, mc.DataType(), ml.MultiArrayDataTypeInt32)
	}
	c := ShapeConstraint{Kind: "fixed", Fixed: ints(mc.Shape())}
	sc := mc.ShapeConstraint()
	switch sc.Type() {
	case ml.MultiArrayShapeConstraintTypeEnumerated:
		c.Kind = "enumerated"
		for _, s := range sc.EnumeratedShapes() {
			c.Enumerated = append(c.Enumerated, ints(s))
		}
	case ml.MultiArrayShapeConstraintTypeRange:
		c.Kind = "range"
		for _, v := range sc.SizeRangeForDimension() {
			// An NSRange is half-open: a fixed size n is {n, 1}.
			r := v.RangeValue()
			lo, hi := int(r.Location), -1
			if r.Length < nsRangeUnbounded {
				hi = int(r.Location + r.Length - 1)
			}
			c.Ranges = append(c.Ranges, [2]int{lo, hi})
		}
	}
	return c, nil
}

// Predict implements predictor: one MLMultiArray per input, one prediction, and the output
// read in place with getBytesWithHandler:.
func (m *mlModel) Predict(shape plan.Shape, ids, mask []int32, read func(Output) error) error {
	if m.closed {
		return ErrClosed
	}
	return inPool(func() error {
		idsArr, err := newInt32Array(shape, ids)
		if err != nil {
			return fmt.Errorf("input %s: %w", InputIDsName, err)
		}
		maskArr, err := newInt32Array(shape, mask)
		if err != nil {
			return fmt.Errorf("input %s: %w", AttentionMaskName, err)
		}
		var e foundation.Error
		in := ml.NewDictionaryFeatureProviderWithDictionaryError(map[string]objc.IObject{
			InputIDsName:      ml.FeatureValue_FeatureValueWithMultiArray(idsArr),
			AttentionMaskName: ml.FeatureValue_FeatureValueWithMultiArray(maskArr),
		}, unsafe.Pointer(&e))
		if err := nsError(e, "MLDictionaryFeatureProvider initWithDictionary:error:"); err != nil {
			return err
		}
		// The ...ObjectError variant passes the real MLDictionaryFeatureProvider; the
		// PFeatureProvider variant would wrap it in a Go-implemented proxy.
		res := m.model.PredictionFromFeaturesObjectError(in, unsafe.Pointer(&e))
		if err := nsError(e, "predictionFromFeatures:error:"); err != nil {
			return err
		}
		if res.IsNil() {
			return errors.New("predictionFromFeatures:error: returned nil without an error")
		}
		fv := res.FeatureValueForName(OutputName)
		if fv.IsNil() {
			return fmt.Errorf("prediction has no feature %q", OutputName)
		}
		arr := fv.MultiArrayValue()
		if arr.IsNil() {
			return fmt.Errorf("feature %q is not a multi-array", OutputName)
		}
		return readMultiArray(arr, read)
	})
}

// newInt32Array creates an int32 (N, L) MLMultiArray holding data. Core ML owns the memory
// (initWithShape:dataType:error:), so no Go pointer outlives the call; the copy of N×L ids is
// negligible next to the prediction.
func newInt32Array(shape plan.Shape, data []int32) (ml.MultiArray, error) {
	var e foundation.Error
	arr := ml.NewMultiArrayWithShapeDataTypeError(nums(shape.Batch, shape.Seq), ml.MultiArrayDataTypeInt32, unsafe.Pointer(&e))
	if err := nsError(e, "MLMultiArray initWithShape:dataType:error:"); err != nil {
		return arr, err
	}
	if arr.IsNil() {
		return arr, errors.New("MLMultiArray initWithShape:dataType:error: returned nil")
	}
	st := ints(arr.Strides())
	if len(st) != 2 || st[0] < 1 || st[1] < 1 {
		return arr, fmt.Errorf("new MLMultiArray has strides %v", st)
	}
	need := ((shape.Batch-1)*st[0] + (shape.Seq-1)*st[1] + 1) * 4
	written := false
	write := func(p unsafe.Pointer, size int) {
		if p == nil || size < need {
			return
		}
		dst := unsafe.Slice((*int32)(p), size/4)
		for r := 0; r < shape.Batch; r++ {
			for t := 0; t < shape.Seq; t++ {
				dst[r*st[0]+t*st[1]] = data[r*shape.Seq+t]
			}
		}
		written = true
	}
	if arr.RespondsToSelector(objc.Sel("getMutableBytesWithHandler:")) {
		// macOS 12.3+. Not bound in darwinkit v0.5.0: objc.Call turns the Go func into a block,
		// which Core ML calls before returning.
		objc.Call[objc.Void](arr, objc.Sel("getMutableBytesWithHandler:"), func(p unsafe.Pointer, size int, strides objc.Object) {
			write(p, size)
		})
	} else {
		// Older systems: dataPointer (deprecated, not bound), valid while arr lives.
		write(objc.Call[unsafe.Pointer](arr, objc.Sel("dataPointer")), need)
	}
	if !written {
		return arr, fmt.Errorf("could not write %d bytes into the MLMultiArray", need)
	}
	return arr, nil
}

// readMultiArray calls read with a view of arr's memory, honoring its shape, strides and data
// type.
func readMultiArray(arr ml.MultiArray, read func(Output) error) error {
	out := Output{Shape: ints(arr.Shape()), Strides: ints(arr.Strides())}
	var elem int
	switch dt := arr.DataType(); dt {
	case ml.MultiArrayDataTypeFloat32:
		out.Type, elem = Float32, 4
	case ml.MultiArrayDataTypeFloat16:
		out.Type, elem = Float16, 2
	default:
		return fmt.Errorf("output %s has data type %d, want Float32 or Float16", OutputName, dt)
	}
	if len(out.Shape) != len(out.Strides) || len(out.Shape) == 0 {
		return fmt.Errorf("output %s has shape %v and strides %v", OutputName, out.Shape, out.Strides)
	}
	extent := 1
	for i, n := range out.Shape {
		if n < 1 || out.Strides[i] < 0 {
			return fmt.Errorf("output %s has shape %v and strides %v", OutputName, out.Shape, out.Strides)
		}
		extent += (n - 1) * out.Strides[i]
	}
	called := false
	var readErr error
	view := func(p unsafe.Pointer, size int) {
		called = true
		if p == nil || size < extent*elem {
			readErr = fmt.Errorf("output %s: buffer of %d bytes, shape %v strides %v need %d", OutputName, size, out.Shape, out.Strides, extent*elem)
			return
		}
		if out.Type == Float32 {
			out.F32 = unsafe.Slice((*float32)(p), size/elem)
		} else {
			out.F16 = unsafe.Slice((*uint16)(p), size/elem)
		}
		readErr = read(out)
	}
	if arr.RespondsToSelector(objc.Sel("getBytesWithHandler:")) {
		// macOS 12.3+, not bound in darwinkit v0.5.0. The handler runs before the call returns;
		// the bytes are valid only inside it.
		objc.Call[objc.Void](arr, objc.Sel("getBytesWithHandler:"), func(p unsafe.Pointer, size int) {
			view(p, size)
		})
	} else {
		view(objc.Call[unsafe.Pointer](arr, objc.Sel("dataPointer")), extent*elem)
	}
	if !called {
		return fmt.Errorf("output %s: getBytesWithHandler: did not call its handler", OutputName)
	}
	return readErr
}
