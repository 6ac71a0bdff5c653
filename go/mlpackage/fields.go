package mlpackage

import "google.golang.org/protobuf/encoding/protowire"

// Protobuf field numbers, from coremltools 9.0's Model.proto, FeatureTypes.proto and MIL.proto
// (print them with python/reference/dump_mil_fields.py).
const (
	// Model
	fModelSpecificationVersion protowire.Number = 1
	fModelDescription          protowire.Number = 2
	fModelMLProgram            protowire.Number = 502

	// ModelDescription
	fDescInput    protowire.Number = 1
	fDescOutput   protowire.Number = 10
	fDescMetadata protowire.Number = 100

	// FeatureDescription
	fFeatName      protowire.Number = 1
	fFeatShortDesc protowire.Number = 2
	fFeatType      protowire.Number = 3

	// FeatureType (oneof Type) and isOptional
	fFTypeMultiArray protowire.Number = 5
	fFTypeOptional   protowire.Number = 1000

	// ArrayFeatureType
	fArrShape      protowire.Number = 1
	fArrDataType   protowire.Number = 2
	fArrEnumerated protowire.Number = 21
	fArrRange      protowire.Number = 31
	// ArrayFeatureType.Shape.shape, EnumeratedShapes.shapes, ShapeRange.sizeRanges
	fShapeShape      protowire.Number = 1
	fEnumShapes      protowire.Number = 1
	fRangeSizeRanges protowire.Number = 1
	fSizeRangeLower  protowire.Number = 1
	fSizeRangeUpper  protowire.Number = 2

	// Metadata
	fMetaShortDesc   protowire.Number = 1
	fMetaVersion     protowire.Number = 2
	fMetaAuthor      protowire.Number = 3
	fMetaLicense     protowire.Number = 4
	fMetaUserDefined protowire.Number = 100

	// map entries
	fMapKey   protowire.Number = 1
	fMapValue protowire.Number = 2

	// MILSpec.Program
	fProgVersion    protowire.Number = 1
	fProgFunctions  protowire.Number = 2
	fProgDocString  protowire.Number = 3
	fProgAttributes protowire.Number = 4

	// MILSpec.Function
	fFuncInputs     protowire.Number = 1
	fFuncOpset      protowire.Number = 2
	fFuncBlocks     protowire.Number = 3
	fFuncAttributes protowire.Number = 4

	// MILSpec.Block
	fBlockInputs     protowire.Number = 1
	fBlockOutputs    protowire.Number = 2
	fBlockOperations protowire.Number = 3
	fBlockAttributes protowire.Number = 4

	// MILSpec.Argument and Argument.Binding
	fArgArguments protowire.Number = 1
	fBindingName  protowire.Number = 1
	fBindingValue protowire.Number = 2

	// MILSpec.Operation
	fOpType       protowire.Number = 1
	fOpInputs     protowire.Number = 2
	fOpOutputs    protowire.Number = 3
	fOpBlocks     protowire.Number = 4
	fOpAttributes protowire.Number = 5

	// MILSpec.NamedValueType
	fNVTName protowire.Number = 1
	fNVTType protowire.Number = 2

	// MILSpec.ValueType (oneof type)
	fVTTensor     protowire.Number = 1
	fVTList       protowire.Number = 2
	fVTTuple      protowire.Number = 3
	fVTDictionary protowire.Number = 4
	fVTState      protowire.Number = 5

	// MILSpec.TensorType
	fTTDataType   protowire.Number = 1
	fTTRank       protowire.Number = 2
	fTTDimensions protowire.Number = 3

	// MILSpec.Dimension (oneof), ConstantDimension.size, UnknownDimension.variadic
	fDimConstant protowire.Number = 1
	fDimUnknown  protowire.Number = 2
	fDimSize     protowire.Number = 1
	fDimVariadic protowire.Number = 1

	// MILSpec.Value
	fValDocString protowire.Number = 1
	fValType      protowire.Number = 2
	fValImmediate protowire.Number = 3
	fValBlobFile  protowire.Number = 5
	// Value.ImmediateValue (oneof)
	fImmTensor protowire.Number = 1
	fImmTuple  protowire.Number = 2
	fImmList   protowire.Number = 3
	fImmDict   protowire.Number = 4
	// Value.BlobFileValue
	fBlobFileName   protowire.Number = 1
	fBlobFileOffset protowire.Number = 2

	// MILSpec.TensorValue (oneof), each a Repeated* message whose values field is 1
	fTVFloats   protowire.Number = 1
	fTVInts     protowire.Number = 2
	fTVBools    protowire.Number = 3
	fTVStrings  protowire.Number = 4
	fTVLongInts protowire.Number = 5
	fTVDoubles  protowire.Number = 6
	fTVBytes    protowire.Number = 7
	fRepValues  protowire.Number = 1
)

// DataType is MILSpec.DataType.
type DataType int32

// MILSpec.DataType values.
const (
	Bool         DataType = 1
	String       DataType = 2
	Float16      DataType = 10
	Float32      DataType = 11
	Float64      DataType = 12
	BFloat16     DataType = 13
	Int8         DataType = 21
	Int16        DataType = 22
	Int32        DataType = 23
	Int64        DataType = 24
	Int4         DataType = 25
	UInt8        DataType = 31
	UInt16       DataType = 32
	UInt32       DataType = 33
	UInt64       DataType = 34
	UInt4        DataType = 35
	UInt2        DataType = 36
	UInt1        DataType = 37
	UInt6        DataType = 38
	UInt3        DataType = 39
	Float8E4M3FN DataType = 40
	Float8E5M2   DataType = 41
)

var dataTypeNames = map[DataType]string{
	Bool: "bool", String: "string", Float16: "fp16", Float32: "fp32", Float64: "fp64",
	BFloat16: "bf16", Int8: "int8", Int16: "int16", Int32: "int32", Int64: "int64", Int4: "int4",
	UInt8: "uint8", UInt16: "uint16", UInt32: "uint32", UInt64: "uint64", UInt4: "uint4",
	UInt2: "uint2", UInt1: "uint1", UInt6: "uint6", UInt3: "uint3",
	Float8E4M3FN: "fp8e4m3fn", Float8E5M2: "fp8e5m2",
}

// String implements fmt.Stringer.
func (d DataType) String() string {
	if s, ok := dataTypeNames[d]; ok {
		return s
	}
	return "DataType(" + itoa(int64(d)) + ")"
}

// ParseDataType maps MIL's dtype strings ("fp16", "int32", "uint8"…) to a DataType.
func ParseDataType(s string) (DataType, bool) {
	for d, n := range dataTypeNames {
		if n == s {
			return d, true
		}
	}
	return 0, false
}

// Bits is the storage width of one element (0 for bool/string, which are not packed).
func (d DataType) Bits() int {
	switch d {
	case Float16, BFloat16, Int16, UInt16:
		return 16
	case Float32, Int32, UInt32:
		return 32
	case Float64, Int64, UInt64:
		return 64
	case Int8, UInt8, Float8E4M3FN, Float8E5M2, Bool:
		return 8
	case Int4, UInt4:
		return 4
	case UInt1:
		return 1
	case UInt2:
		return 2
	case UInt3:
		return 3
	case UInt6:
		return 6
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DataType) IsFloat() bool {
	switch d {
	case Float16, Float32, Float64, BFloat16, Float8E4M3FN, Float8E5M2:
		return true
	}
	return false
}

// ArrayDataType is ArrayFeatureType.ArrayDataType (the model interface's element type).
type ArrayDataType int32

// ArrayFeatureType.ArrayDataType values.
const (
	ArrayFloat32 ArrayDataType = 65568
	ArrayDouble  ArrayDataType = 65600
	ArrayInt32   ArrayDataType = 131104
	ArrayInt8    ArrayDataType = 131080
	ArrayFloat16 ArrayDataType = 65552
)

// String implements fmt.Stringer.
func (a ArrayDataType) String() string {
	switch a {
	case ArrayFloat32:
		return "FLOAT32"
	case ArrayDouble:
		return "DOUBLE"
	case ArrayInt32:
		return "INT32"
	case ArrayInt8:
		return "INT8"
	case ArrayFloat16:
		return "FLOAT16"
	}
	return "ArrayDataType(" + itoa(int64(a)) + ")"
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	var b [24]byte
	i := len(b)
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
