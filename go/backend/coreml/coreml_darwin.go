//go:build darwin && cgo

package coreml

import (
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
// WithCacheDir). The model's interface (input_ids and attention_mask, or input_ids alone) and
// its allowed input shapes are read from the model description.
//
// When Core ML cannot run the model, the error is an *UnavailableError naming the reason:
// the running macOS is older than the model's specification version needs (checked before
// Core ML sees the model, from the package's own files), or Core ML could not compile or load
// it. errors.Is(err, ErrUnavailable) holds for these; invalid options are plain errors.
func New(modelPath string, opts ...Option) (*Backend, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	running, err := runningMacOS()
	if err != nil {
		return nil, &UnavailableError{Reason: "cannot read the macOS version", Err: err}
	}
	if err := checkModelOS(modelPath, running); err != nil {
		return nil, err
	}
	compiled, err := resolveModel(modelPath, cfg.cacheDir, compileModel)
	if err != nil {
		return nil, &UnavailableError{Reason: "cannot prepare model " + modelPath, Err: err}
	}
	var (
		preds  []predictor
		shapes plan.ShapeSet
		hidden int
		iface  Interface
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
			return fail(&UnavailableError{
				Reason: fmt.Sprintf("Core ML cannot load %s (instance %d, %v)", compiled, i, cfg.units),
				Err:    err,
			})
		}
		preds = append(preds, m)
		if i == 0 {
			if iface, shapes, hidden, err = m.describe(); err != nil {
				return fail(&UnavailableError{Reason: "unsupported model " + compiled, Err: err})
			}
		}
	}
	b, err := newBackend(fmt.Sprintf("coreml(%s)", cfg.units), shapes, hidden, iface, preds)
	if err != nil {
		return fail(err)
	}
	return b, nil
}

// runningMacOS returns -[NSProcessInfo operatingSystemVersion] (macOS 10.10+, bound in
// darwinkit v0.5.0 as ProcessInfo.OperatingSystemVersion, macos/foundation/process_info.gen.go).
func runningMacOS() (OSVersion, error) {
	var v OSVersion
	err := inPool(func() error {
		ov := foundation.ProcessInfo_ProcessInfo().OperatingSystemVersion()
		v = OSVersion{Major: int(ov.MajorVersion), Minor: int(ov.MinorVersion), Patch: int(ov.PatchVersion)}
		if v.Major < 10 {
			return fmt.Errorf("operatingSystemVersion returned %v", v)
		}
		return nil
	})
	return v, err
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

// cocoaError applies the Cocoa convention for methods with an NSError ** out-parameter: the
// return value says whether the call failed (nil or NO), and only then is the NSError
// meaningful. Apple's Error Handling Programming Guide: "you should always check that the
// return value is nil or NO before attempting to do anything with the NSError object"; a
// method may write to the error pointer even when it succeeds. Each call gets its own
// foundation.Error variable. It must run inside the pool that was active during the call,
// since the NSError is autoreleased.
func cocoaError(failed bool, e foundation.Error, op string) error {
	if !failed {
		return nil
	}
	if err := foundation.ToGoError(e); err != nil {
		return fmt.Errorf("%s: %w (domain %s)", op, err, e.Domain())
	}
	return fmt.Errorf("%s failed without an NSError", op)
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

// compileModel compiles an .mlpackage or .mlmodel into a temporary .mlmodelc.
// +compileModelAtURL:error: is not bound in darwinkit v0.5.0, so it is sent with objc.Call.
func compileModel(src string) (string, error) {
	var out string
	err := inPool(func() error {
		var e foundation.Error
		url := objc.Call[foundation.URL](ml.ModelClass, objc.Sel("compileModelAtURL:error:"),
			foundation.URL_FileURLWithPath(src), unsafe.Pointer(&e))
		if err := cocoaError(url.IsNil(), e, "compileModelAtURL:error:"); err != nil {
			return err
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
		if err := cocoaError(model.IsNil(), e, "modelWithContentsOfURL:configuration:error:"); err != nil {
			return err
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

// describe reads the model's interface, allowed input shapes and hidden size from its
// description.
func (m *mlModel) describe() (Interface, plan.ShapeSet, int, error) {
	var (
		iface  Interface
		set    plan.ShapeSet
		hidden = HiddenSize
	)
	err := inPool(func() error {
		desc := m.model.ModelDescription()
		// NSDictionary → map: darwinkit's to_c_items sets the length even for an empty
		// dictionary, unlike to_c_array.
		inputs := desc.InputDescriptionsByName()
		var err error
		if iface, err = InterfaceOf(featureNames(inputs)); err != nil {
			return err
		}
		var cons []ShapeConstraint
		for _, name := range iface.Names() {
			c, err := shapeConstraintOf(name, inputs[name])
			if err != nil {
				return err
			}
			cons = append(cons, c)
		}
		if set, err = ShapeSetOf(cons...); err != nil {
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
		// The converted model declares last_hidden_state with a symbolic shape, so this array
		// is usually empty (see nsArray).
		if sh := nsInts(oc, "shape"); len(sh) == 3 && sh[2] > 0 {
			hidden = sh[2]
		}
		if hidden != HiddenSize {
			return fmt.Errorf("output %s has hidden size %d, want %d (all-MiniLM-L6-v2)", OutputName, hidden, HiddenSize)
		}
		return nil
	})
	return iface, set, hidden, err
}

func featureNames(m map[string]ml.FeatureDescription) []string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func shapeConstraintOf(name string, fd ml.FeatureDescription) (ShapeConstraint, error) {
	if fd.IsNil() {
		return ShapeConstraint{}, fmt.Errorf("model has no input %q", name)
	}
	if fd.Type() != ml.FeatureTypeMultiArray {
		return ShapeConstraint{}, fmt.Errorf("input %s is feature type %d, want a multi-array", name, fd.Type())
	}
	mc := fd.MultiArrayConstraint()
	if mc.DataType() != ml.MultiArrayDataTypeInt32 {
		return ShapeConstraint{}, fmt.Errorf("input %s has data type %d, want Int32 (%d)", name, mc.DataType(), ml.MultiArrayDataTypeInt32)
	}
	c := ShapeConstraint{Name: name, Kind: "fixed", Fixed: nsInts(mc, "shape")}
	sc := mc.ShapeConstraint()
	if sc.IsNil() {
		return c, nil
	}
	switch sc.Type() {
	case ml.MultiArrayShapeConstraintTypeEnumerated:
		c.Kind = "enumerated"
		c.Enumerated = nsShapes(sc, "enumeratedShapes")
	case ml.MultiArrayShapeConstraintTypeRange:
		c.Kind = "range"
		r, err := nsRanges(sc, "sizeRangeForDimension")
		if err != nil {
			return ShapeConstraint{}, fmt.Errorf("input %s: %w", name, err)
		}
		c.Ranges = r
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
		features := map[string]objc.IObject{InputIDsName: ml.FeatureValue_FeatureValueWithMultiArray(idsArr)}
		if mask != nil { // nil for a single-input model
			maskArr, err := newInt32Array(shape, mask)
			if err != nil {
				return fmt.Errorf("input %s: %w", AttentionMaskName, err)
			}
			features[AttentionMaskName] = ml.FeatureValue_FeatureValueWithMultiArray(maskArr)
		}
		var inErr foundation.Error
		in := ml.NewDictionaryFeatureProviderWithDictionaryError(features, unsafe.Pointer(&inErr))
		if err := cocoaError(in.IsNil(), inErr, "MLDictionaryFeatureProvider initWithDictionary:error:"); err != nil {
			return err
		}
		// The ...ObjectError variant passes the real MLDictionaryFeatureProvider; the
		// PFeatureProvider variant would wrap it in a Go-implemented proxy.
		var predErr foundation.Error
		res := m.model.PredictionFromFeaturesObjectError(in, unsafe.Pointer(&predErr))
		if err := cocoaError(res.IsNil(), predErr, "predictionFromFeatures:error:"); err != nil {
			return err
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
	if err := cocoaError(arr.IsNil(), e, "MLMultiArray initWithShape:dataType:error:"); err != nil {
		return arr, err
	}
	st := nsInts(arr, "strides")
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
	out := Output{Shape: nsInts(arr, "shape"), Strides: nsInts(arr, "strides")}
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
