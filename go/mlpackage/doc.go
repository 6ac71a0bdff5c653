// Package mlpackage reads Core ML model packages (.mlpackage) without Apple's frameworks:
// the package manifest, the Core ML Model protobuf (model description, metadata and the
// ML Program: functions, blocks, operations, types and constant values) and the MIL weight
// blob file (weights/weight.bin) with every storage type the converter's variants use.
//
// # Where the field numbers come from
//
// The protobuf is decoded by field number with google.golang.org/protobuf/encoding/protowire;
// no .proto file or generated code is part of this repository. The numbers in fields.go are
// those of Model.proto, FeatureTypes.proto and MIL.proto as compiled into the pinned
// coremltools 9.0 wheel (coremltools/proto/*_pb2.py). python/reference/dump_mil_fields.py
// prints them from those descriptors so a reviewer can diff them against fields.go:
//
//	/tmp/devvenv/bin/python python/reference/dump_mil_fields.py
//
// Map fields (Program.functions, Operation.inputs, attributes, userDefined…) are encoded by
// protobuf as repeated entry messages with key = 1 and value = 2.
//
// # Weight blob file
//
// weights/weight.bin is MIL's blob storage format (coremltools
// mlmodel/src/MILBlob/Blob/StorageFormat.hpp): a 64-byte storage header (uint32 count,
// uint32 version = 2, reserved) and, per blob, a 64-byte metadata header (uint32 sentinel
// 0xDEADBEEF, uint32 blob data type, uint64 size in bytes, uint64 data offset, uint64
// padding size in bits, reserved) followed by the data, 64-byte aligned, all little-endian.
// A MIL const refers to a blob by the file offset of its metadata header. Sub-byte types
// (int4, uint1…uint6) are packed little-endian: element i occupies bits [i·b, (i+1)·b) of the
// byte stream, counting from the least significant bit of the first byte (checked against
// coremltools' own unpacking of the converted packages, see blob_test.go).
//
// Every decoder returns an error on corrupt or truncated input and never panics; fuzz
// targets (FuzzDecodeModel, FuzzBlobFile) check that.
package mlpackage
