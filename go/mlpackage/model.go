package mlpackage

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Model is the part of a Core ML Model message this package understands.
type Model struct {
	SpecificationVersion int32
	Description          Description
	// Program is the ML Program, or nil when the model is of another type.
	Program *Program
}

// Description is ModelDescription: the model's interface and metadata.
type Description struct {
	Inputs   []Feature
	Outputs  []Feature
	Metadata Metadata
}

// Metadata is Model.proto's Metadata.
type Metadata struct {
	ShortDescription string
	VersionString    string
	Author           string
	License          string
	UserDefined      map[string]string
}

// Feature is a FeatureDescription.
type Feature struct {
	Name             string
	ShortDescription string
	Optional         bool
	// TypeField is the field number of the FeatureType oneof that is set (5 = multiArrayType).
	TypeField int
	// Array is set for multiArrayType features.
	Array *ArrayType
}

// ArrayType is ArrayFeatureType: element type, default shape and shape flexibility.
type ArrayType struct {
	DataType ArrayDataType
	Shape    []int64
	// EnumeratedShapes lists the allowed shapes (empty unless the input is enumerated).
	EnumeratedShapes [][]int64
	// ShapeRange gives per-dimension bounds (empty unless the input has ranged shapes).
	ShapeRange []SizeRange
}

// SizeRange bounds one dimension; Upper is -1 when unbounded.
type SizeRange struct {
	Lower uint64
	Upper int64
}

// Program is MILSpec.Program.
type Program struct {
	Version    int64
	DocString  string
	Functions  map[string]*Function
	Attributes map[string]*Value
}

// Function is MILSpec.Function.
type Function struct {
	Inputs     []NamedValueType
	Opset      string
	Blocks     map[string]*Block
	Attributes map[string]*Value
}

// Block returns the block specialization for the function's opset.
func (f *Function) Block() (*Block, error) {
	b, ok := f.Blocks[f.Opset]
	if !ok || b == nil {
		return nil, fmt.Errorf("mlpackage: function has no block for its opset %q", f.Opset)
	}
	return b, nil
}

// Block is MILSpec.Block.
type Block struct {
	Inputs     []NamedValueType
	Outputs    []string
	Operations []*Operation
	Attributes map[string]*Value
}

// Operation is MILSpec.Operation. Inputs maps a parameter name to its bindings (more than
// one for variadic parameters such as concat's values).
type Operation struct {
	Type       string
	Inputs     map[string][]Binding
	Outputs    []NamedValueType
	Blocks     []*Block
	Attributes map[string]*Value
}

// Name is the operation's "name" attribute, or "" if it has none.
func (o *Operation) Name() string {
	if v := o.Attributes["name"]; v != nil && v.Immediate != nil && len(v.Immediate.Strings) == 1 {
		return v.Immediate.Strings[0]
	}
	return ""
}

// Binding is Argument.Binding: either the name of a variable or an inline value.
type Binding struct {
	Name  string
	Value *Value
}

// NamedValueType is a variable declaration.
type NamedValueType struct {
	Name string
	Type *ValueType
}

// ValueType is MILSpec.ValueType. Only tensors are described in detail; Kind is the field
// number of the oneof that is set (1 tensor, 2 list, 3 tuple, 4 dictionary, 5 state).
type ValueType struct {
	Kind   int
	Tensor *TensorType
}

// TensorType is MILSpec.TensorType.
type TensorType struct {
	DataType DataType
	Rank     int64
	Dims     []Dim
}

// Dim is a MILSpec.Dimension: a constant size, or unknown (Known false).
type Dim struct {
	Known    bool
	Size     uint64
	Variadic bool
}

// Value is MILSpec.Value: an immediate tensor or a reference into a weight blob file.
type Value struct {
	DocString string
	Type      *ValueType
	// ImmediateKind is the field number of the ImmediateValue oneof (1 tensor, 2 tuple…),
	// 0 if the value is not immediate.
	ImmediateKind int
	Immediate     *TensorValue
	Blob          *BlobFileValue
}

// BlobFileValue locates a constant in a blob file: the offset of its metadata header.
type BlobFileValue struct {
	FileName string
	Offset   uint64
}

// TensorValue is MILSpec.TensorValue; exactly one of the slices is set (Kind says which by
// field number: 1 floats, 2 ints, 3 bools, 4 strings, 5 longInts, 6 doubles, 7 bytes).
type TensorValue struct {
	Kind     int
	Floats   []float32
	Ints     []int32
	Bools    []bool
	Strings  []string
	LongInts []int64
	Doubles  []float64
	Bytes    []byte
}

// maxDepth bounds the nesting of recursive messages (blocks in operations, value types in
// value types) so hostile input cannot exhaust the stack.
const maxDepth = 32

var errDepth = errors.New("mlpackage: protobuf nested too deeply")

// field is one decoded protobuf field.
type field struct {
	num protowire.Number
	typ protowire.Type
	b   []byte // BytesType payload
	v   uint64 // varint, fixed32 or fixed64 value
}

// eachField calls fn for every field of message b, skipping groups.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return wireErr(n)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return wireErr(n)
			}
			b = b[n:]
			continue
		}
		if n < 0 {
			return wireErr(n)
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func wireErr(n int) error {
	return fmt.Errorf("mlpackage: bad protobuf: %v", protowire.ParseError(n))
}

func (f field) bytes(what string) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, fmt.Errorf("mlpackage: %s: wire type %d, want length-delimited", what, f.typ)
	}
	return f.b, nil
}

func (f field) varint(what string) (uint64, error) {
	if f.typ != protowire.VarintType {
		return 0, fmt.Errorf("mlpackage: %s: wire type %d, want varint", what, f.typ)
	}
	return f.v, nil
}

// DecodeModel decodes a serialized Core ML Model (the bytes of model.mlmodel).
func DecodeModel(b []byte) (*Model, error) {
	m := &Model{}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fModelSpecificationVersion:
			v, err := f.varint("Model.specificationVersion")
			m.SpecificationVersion = int32(v)
			return err
		case fModelDescription:
			b, err := f.bytes("Model.description")
			if err != nil {
				return err
			}
			return decodeDescription(b, &m.Description)
		case fModelMLProgram:
			b, err := f.bytes("Model.mlProgram")
			if err != nil {
				return err
			}
			m.Program, err = decodeProgram(b)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeDescription(b []byte, d *Description) error {
	return eachField(b, func(f field) error {
		switch f.num {
		case fDescInput, fDescOutput:
			b, err := f.bytes("ModelDescription.input/output")
			if err != nil {
				return err
			}
			feat, err := decodeFeature(b)
			if err != nil {
				return err
			}
			if f.num == fDescInput {
				d.Inputs = append(d.Inputs, feat)
			} else {
				d.Outputs = append(d.Outputs, feat)
			}
		case fDescMetadata:
			b, err := f.bytes("ModelDescription.metadata")
			if err != nil {
				return err
			}
			return decodeMetadata(b, &d.Metadata)
		}
		return nil
	})
}

func decodeMetadata(b []byte, m *Metadata) error {
	return eachField(b, func(f field) error {
		var dst *string
		switch f.num {
		case fMetaShortDesc:
			dst = &m.ShortDescription
		case fMetaVersion:
			dst = &m.VersionString
		case fMetaAuthor:
			dst = &m.Author
		case fMetaLicense:
			dst = &m.License
		case fMetaUserDefined:
			b, err := f.bytes("Metadata.userDefined")
			if err != nil {
				return err
			}
			k, v, err := decodeStringEntry(b)
			if err != nil {
				return err
			}
			if m.UserDefined == nil {
				m.UserDefined = map[string]string{}
			}
			m.UserDefined[k] = v
			return nil
		default:
			return nil
		}
		b, err := f.bytes("Metadata string")
		*dst = string(b)
		return err
	})
}

// decodeStringEntry decodes a map<string,string> entry.
func decodeStringEntry(b []byte) (k, v string, err error) {
	err = eachField(b, func(f field) error {
		s, err := f.bytes("map entry")
		if err != nil {
			return err
		}
		switch f.num {
		case fMapKey:
			k = string(s)
		case fMapValue:
			v = string(s)
		}
		return nil
	})
	return k, v, err
}

// decodeEntry decodes a map<string, message> entry, returning the key and the raw value.
func decodeEntry(b []byte) (k string, v []byte, err error) {
	err = eachField(b, func(f field) error {
		s, err := f.bytes("map entry")
		if err != nil {
			return err
		}
		switch f.num {
		case fMapKey:
			k = string(s)
		case fMapValue:
			v = s
		}
		return nil
	})
	return k, v, err
}

func decodeFeature(b []byte) (Feature, error) {
	var ft Feature
	err := eachField(b, func(f field) error {
		switch f.num {
		case fFeatName, fFeatShortDesc:
			s, err := f.bytes("FeatureDescription string")
			if f.num == fFeatName {
				ft.Name = string(s)
			} else {
				ft.ShortDescription = string(s)
			}
			return err
		case fFeatType:
			b, err := f.bytes("FeatureDescription.type")
			if err != nil {
				return err
			}
			return eachField(b, func(f field) error {
				switch {
				case f.num == fFTypeOptional:
					v, err := f.varint("FeatureType.isOptional")
					ft.Optional = v != 0
					return err
				case f.num == fFTypeMultiArray:
					b, err := f.bytes("FeatureType.multiArrayType")
					if err != nil {
						return err
					}
					ft.TypeField = int(f.num)
					ft.Array, err = decodeArrayType(b)
					return err
				case f.num >= 1 && f.num <= 8:
					ft.TypeField = int(f.num)
				}
				return nil
			})
		}
		return nil
	})
	return ft, err
}

func decodeArrayType(b []byte) (*ArrayType, error) {
	a := &ArrayType{}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fArrShape:
			return appendInt64s(f, &a.Shape, "ArrayFeatureType.shape")
		case fArrDataType:
			v, err := f.varint("ArrayFeatureType.dataType")
			a.DataType = ArrayDataType(v)
			return err
		case fArrEnumerated:
			b, err := f.bytes("ArrayFeatureType.enumeratedShapes")
			if err != nil {
				return err
			}
			return eachField(b, func(f field) error {
				if f.num != fEnumShapes {
					return nil
				}
				b, err := f.bytes("EnumeratedShapes.shapes")
				if err != nil {
					return err
				}
				var shape []int64
				err = eachField(b, func(f field) error {
					if f.num == fShapeShape {
						return appendInt64s(f, &shape, "Shape.shape")
					}
					return nil
				})
				a.EnumeratedShapes = append(a.EnumeratedShapes, shape)
				return err
			})
		case fArrRange:
			b, err := f.bytes("ArrayFeatureType.shapeRange")
			if err != nil {
				return err
			}
			return eachField(b, func(f field) error {
				if f.num != fRangeSizeRanges {
					return nil
				}
				b, err := f.bytes("ShapeRange.sizeRanges")
				if err != nil {
					return err
				}
				var r SizeRange
				err = eachField(b, func(f field) error {
					switch f.num {
					case fSizeRangeLower:
						v, err := f.varint("SizeRange.lowerBound")
						r.Lower = v
						return err
					case fSizeRangeUpper:
						v, err := f.varint("SizeRange.upperBound")
						r.Upper = int64(v)
						return err
					}
					return nil
				})
				a.ShapeRange = append(a.ShapeRange, r)
				return err
			})
		}
		return nil
	})
	return a, err
}

// appendInt64s appends a repeated int64 field, packed or not.
func appendInt64s(f field, dst *[]int64, what string) error {
	switch f.typ {
	case protowire.VarintType:
		*dst = append(*dst, int64(f.v))
		return nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return wireErr(n)
			}
			*dst = append(*dst, int64(v))
			b = b[n:]
		}
		return nil
	}
	return fmt.Errorf("mlpackage: %s: wire type %d, want varint or packed", what, f.typ)
}

func decodeProgram(b []byte) (*Program, error) {
	p := &Program{Functions: map[string]*Function{}}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fProgVersion:
			v, err := f.varint("Program.version")
			p.Version = int64(v)
			return err
		case fProgDocString:
			s, err := f.bytes("Program.docString")
			p.DocString = string(s)
			return err
		case fProgFunctions:
			b, err := f.bytes("Program.functions")
			if err != nil {
				return err
			}
			k, v, err := decodeEntry(b)
			if err != nil {
				return err
			}
			fn, err := decodeFunction(v)
			if err != nil {
				return fmt.Errorf("function %q: %w", k, err)
			}
			p.Functions[k] = fn
		case fProgAttributes:
			return decodeValueEntry(f, &p.Attributes, 0)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func decodeValueEntry(f field, dst *map[string]*Value, depth int) error {
	b, err := f.bytes("attributes")
	if err != nil {
		return err
	}
	k, v, err := decodeEntry(b)
	if err != nil {
		return err
	}
	val, err := decodeValue(v, depth+1)
	if err != nil {
		return fmt.Errorf("attribute %q: %w", k, err)
	}
	if *dst == nil {
		*dst = map[string]*Value{}
	}
	(*dst)[k] = val
	return nil
}

func decodeFunction(b []byte) (*Function, error) {
	fn := &Function{Blocks: map[string]*Block{}}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fFuncInputs:
			b, err := f.bytes("Function.inputs")
			if err != nil {
				return err
			}
			nv, err := decodeNamedValueType(b, 0)
			fn.Inputs = append(fn.Inputs, nv)
			return err
		case fFuncOpset:
			s, err := f.bytes("Function.opset")
			fn.Opset = string(s)
			return err
		case fFuncBlocks:
			b, err := f.bytes("Function.block_specializations")
			if err != nil {
				return err
			}
			k, v, err := decodeEntry(b)
			if err != nil {
				return err
			}
			blk, err := decodeBlock(v, 0)
			if err != nil {
				return fmt.Errorf("block %q: %w", k, err)
			}
			fn.Blocks[k] = blk
		case fFuncAttributes:
			return decodeValueEntry(f, &fn.Attributes, 0)
		}
		return nil
	})
	return fn, err
}

func decodeBlock(b []byte, depth int) (*Block, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	blk := &Block{}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fBlockInputs:
			b, err := f.bytes("Block.inputs")
			if err != nil {
				return err
			}
			nv, err := decodeNamedValueType(b, depth)
			blk.Inputs = append(blk.Inputs, nv)
			return err
		case fBlockOutputs:
			s, err := f.bytes("Block.outputs")
			blk.Outputs = append(blk.Outputs, string(s))
			return err
		case fBlockOperations:
			b, err := f.bytes("Block.operations")
			if err != nil {
				return err
			}
			op, err := decodeOperation(b, depth)
			if err != nil {
				return fmt.Errorf("operation %d: %w", len(blk.Operations), err)
			}
			blk.Operations = append(blk.Operations, op)
		case fBlockAttributes:
			return decodeValueEntry(f, &blk.Attributes, depth)
		}
		return nil
	})
	return blk, err
}

func decodeOperation(b []byte, depth int) (*Operation, error) {
	op := &Operation{Inputs: map[string][]Binding{}}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fOpType:
			s, err := f.bytes("Operation.type")
			op.Type = string(s)
			return err
		case fOpInputs:
			b, err := f.bytes("Operation.inputs")
			if err != nil {
				return err
			}
			k, v, err := decodeEntry(b)
			if err != nil {
				return err
			}
			var args []Binding
			err = eachField(v, func(f field) error {
				if f.num != fArgArguments {
					return nil
				}
				b, err := f.bytes("Argument.arguments")
				if err != nil {
					return err
				}
				var bind Binding
				err = eachField(b, func(f field) error {
					switch f.num {
					case fBindingName:
						s, err := f.bytes("Binding.name")
						bind.Name = string(s)
						return err
					case fBindingValue:
						b, err := f.bytes("Binding.value")
						if err != nil {
							return err
						}
						bind.Value, err = decodeValue(b, depth+1)
						return err
					}
					return nil
				})
				args = append(args, bind)
				return err
			})
			if err != nil {
				return fmt.Errorf("input %q: %w", k, err)
			}
			op.Inputs[k] = args
		case fOpOutputs:
			b, err := f.bytes("Operation.outputs")
			if err != nil {
				return err
			}
			nv, err := decodeNamedValueType(b, depth)
			op.Outputs = append(op.Outputs, nv)
			return err
		case fOpBlocks:
			b, err := f.bytes("Operation.blocks")
			if err != nil {
				return err
			}
			blk, err := decodeBlock(b, depth+1)
			op.Blocks = append(op.Blocks, blk)
			return err
		case fOpAttributes:
			return decodeValueEntry(f, &op.Attributes, depth)
		}
		return nil
	})
	return op, err
}

func decodeNamedValueType(b []byte, depth int) (NamedValueType, error) {
	var nv NamedValueType
	err := eachField(b, func(f field) error {
		switch f.num {
		case fNVTName:
			s, err := f.bytes("NamedValueType.name")
			nv.Name = string(s)
			return err
		case fNVTType:
			b, err := f.bytes("NamedValueType.type")
			if err != nil {
				return err
			}
			nv.Type, err = decodeValueType(b, depth+1)
			return err
		}
		return nil
	})
	return nv, err
}

func decodeValueType(b []byte, depth int) (*ValueType, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	vt := &ValueType{}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fVTTensor:
			b, err := f.bytes("ValueType.tensorType")
			if err != nil {
				return err
			}
			vt.Kind = int(f.num)
			vt.Tensor, err = decodeTensorType(b)
			return err
		case fVTList, fVTTuple, fVTDictionary, fVTState:
			if _, err := f.bytes("ValueType"); err != nil {
				return err
			}
			vt.Kind = int(f.num)
			vt.Tensor = nil
		}
		return nil
	})
	return vt, err
}

func decodeTensorType(b []byte) (*TensorType, error) {
	tt := &TensorType{}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fTTDataType:
			v, err := f.varint("TensorType.dataType")
			tt.DataType = DataType(v)
			return err
		case fTTRank:
			v, err := f.varint("TensorType.rank")
			tt.Rank = int64(v)
			return err
		case fTTDimensions:
			b, err := f.bytes("TensorType.dimensions")
			if err != nil {
				return err
			}
			var d Dim
			err = eachField(b, func(f field) error {
				b, err := f.bytes("Dimension")
				if err != nil {
					return err
				}
				switch f.num {
				case fDimConstant:
					d.Known = true
					return eachField(b, func(f field) error {
						if f.num == fDimSize {
							v, err := f.varint("ConstantDimension.size")
							d.Size = v
							return err
						}
						return nil
					})
				case fDimUnknown:
					d.Known = false
					return eachField(b, func(f field) error {
						if f.num == fDimVariadic {
							v, err := f.varint("UnknownDimension.variadic")
							d.Variadic = v != 0
							return err
						}
						return nil
					})
				}
				return nil
			})
			tt.Dims = append(tt.Dims, d)
			return err
		}
		return nil
	})
	return tt, err
}

func decodeValue(b []byte, depth int) (*Value, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	v := &Value{}
	err := eachField(b, func(f field) error {
		switch f.num {
		case fValDocString:
			s, err := f.bytes("Value.docString")
			v.DocString = string(s)
			return err
		case fValType:
			b, err := f.bytes("Value.type")
			if err != nil {
				return err
			}
			v.Type, err = decodeValueType(b, depth+1)
			return err
		case fValImmediate:
			b, err := f.bytes("Value.immediateValue")
			if err != nil {
				return err
			}
			v.Blob = nil
			return eachField(b, func(f field) error {
				switch f.num {
				case fImmTensor:
					b, err := f.bytes("ImmediateValue.tensor")
					if err != nil {
						return err
					}
					v.ImmediateKind = int(f.num)
					v.Immediate, err = decodeTensorValue(b)
					return err
				case fImmTuple, fImmList, fImmDict:
					v.ImmediateKind = int(f.num)
					v.Immediate = nil
				}
				return nil
			})
		case fValBlobFile:
			b, err := f.bytes("Value.blobFileValue")
			if err != nil {
				return err
			}
			bf := &BlobFileValue{}
			err = eachField(b, func(f field) error {
				switch f.num {
				case fBlobFileName:
					s, err := f.bytes("BlobFileValue.fileName")
					bf.FileName = string(s)
					return err
				case fBlobFileOffset:
					o, err := f.varint("BlobFileValue.offset")
					bf.Offset = o
					return err
				}
				return nil
			})
			v.Blob, v.Immediate, v.ImmediateKind = bf, nil, 0
			return err
		}
		return nil
	})
	return v, err
}

func decodeTensorValue(b []byte) (*TensorValue, error) {
	tv := &TensorValue{}
	err := eachField(b, func(f field) error {
		if f.num < fTVFloats || f.num > fTVBytes {
			return nil
		}
		rb, err := f.bytes("TensorValue")
		if err != nil {
			return err
		}
		*tv = TensorValue{Kind: int(f.num)}
		if f.num == fTVBytes {
			tv.Bytes = []byte{}
		}
		return eachField(rb, func(g field) error {
			if g.num != fRepValues {
				return nil
			}
			return tv.add(f.num, g)
		})
	})
	return tv, err
}

// add appends the values of one (possibly packed) repeated field.
func (tv *TensorValue) add(kind protowire.Number, g field) error {
	switch kind {
	case fTVStrings:
		s, err := g.bytes("RepeatedStrings.values")
		tv.Strings = append(tv.Strings, string(s))
		return err
	case fTVBytes:
		s, err := g.bytes("RepeatedBytes.values")
		tv.Bytes = append(tv.Bytes, s...)
		return err
	}
	one := func(raw uint64) {
		switch kind {
		case fTVFloats:
			tv.Floats = append(tv.Floats, math.Float32frombits(uint32(raw)))
		case fTVDoubles:
			tv.Doubles = append(tv.Doubles, math.Float64frombits(raw))
		case fTVInts:
			tv.Ints = append(tv.Ints, int32(raw))
		case fTVLongInts:
			tv.LongInts = append(tv.LongInts, int64(raw))
		case fTVBools:
			tv.Bools = append(tv.Bools, raw != 0)
		}
	}
	var want protowire.Type
	switch kind {
	case fTVFloats:
		want = protowire.Fixed32Type
	case fTVDoubles:
		want = protowire.Fixed64Type
	default:
		want = protowire.VarintType
	}
	if g.typ == want {
		one(g.v)
		return nil
	}
	if g.typ != protowire.BytesType {
		return fmt.Errorf("mlpackage: TensorValue values: wire type %d", g.typ)
	}
	b := g.b
	for len(b) > 0 {
		var n int
		var raw uint64
		switch want {
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			raw = uint64(v)
		case protowire.Fixed64Type:
			raw, n = protowire.ConsumeFixed64(b)
		default:
			raw, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return wireErr(n)
		}
		one(raw)
		b = b[n:]
	}
	return nil
}
