#!/usr/bin/env python3
"""Print the protobuf field numbers go/mlpackage decodes, read from the pinned coremltools.

go/mlpackage decodes Core ML's Model.proto / FeatureTypes.proto / MIL.proto by field number
(no generated code in the repository). This script prints, from the descriptors compiled into
the coremltools wheel (9.0, the converter's pin), every message and enum go/mlpackage uses, so a
reviewer can check the constants in go/mlpackage/fields.go against the schema:

    /path/to/venv/bin/python python/reference/dump_mil_fields.py

Output: one line per field, `Message.field = number (type)`, and per enum `Enum.VALUE = number`.
"""
import sys

import coremltools
from google.protobuf.descriptor import FieldDescriptor
from coremltools.proto import FeatureTypes_pb2, MIL_pb2, Model_pb2

MESSAGES = [
    (Model_pb2, ["Model", "ModelDescription", "FeatureDescription", "Metadata"]),
    (FeatureTypes_pb2, ["FeatureType", "ArrayFeatureType", "ArrayFeatureType.Shape",
                        "ArrayFeatureType.EnumeratedShapes", "ArrayFeatureType.ShapeRange",
                        "SizeRange"]),
    (MIL_pb2, ["Program", "Function", "Block", "Argument", "Argument.Binding", "Operation",
               "NamedValueType", "ValueType", "TensorType", "TupleType", "ListType",
               "DictionaryType", "Dimension", "Dimension.ConstantDimension",
               "Dimension.UnknownDimension", "Value", "Value.ImmediateValue",
               "Value.BlobFileValue", "TensorValue", "TensorValue.RepeatedFloats",
               "TensorValue.RepeatedDoubles", "TensorValue.RepeatedInts",
               "TensorValue.RepeatedLongInts", "TensorValue.RepeatedBools",
               "TensorValue.RepeatedStrings", "TensorValue.RepeatedBytes", "TupleValue",
               "ListValue", "DictionaryValue"]),
]
ENUMS = [(MIL_pb2, "DataType"), (FeatureTypes_pb2, "ArrayFeatureType.ArrayDataType")]

_TYPES = {v: k[len("TYPE_"):].lower() for k, v in vars(FieldDescriptor).items()
          if k.startswith("TYPE_")}


def is_repeated(f):
    if hasattr(f, "is_repeated"):
        return f.is_repeated
    return f.label == FieldDescriptor.LABEL_REPEATED


def find(module, dotted):
    d = module.DESCRIPTOR.message_types_by_name[dotted.split(".")[0]]
    for part in dotted.split(".")[1:]:
        d = d.nested_types_by_name[part]
    return d


def find_enum(module, dotted):
    parts = dotted.split(".")
    if len(parts) == 1:
        return module.DESCRIPTOR.enum_types_by_name[parts[0]]
    return find(module, ".".join(parts[:-1])).enum_types_by_name[parts[-1]]


def main():
    print("# coremltools", coremltools.__version__)
    for module, names in MESSAGES:
        print("## %s" % module.DESCRIPTOR.name)
        for name in names:
            d = find(module, name)
            for f in sorted(d.fields, key=lambda f: f.number):
                typ = f.message_type.full_name if f.message_type else (
                    f.enum_type.full_name if f.enum_type else _TYPES.get(f.type, str(f.type)))
                rep = "repeated " if is_repeated(f) else ""
                oneof = " oneof=%s" % f.containing_oneof.name if f.containing_oneof else ""
                print("%s.%s = %d (%s%s)%s" % (name, f.name, f.number, rep, typ, oneof))
    for module, name in ENUMS:
        e = find_enum(module, name)
        for v in e.values:
            print("%s.%s = %d" % (name, v.name, v.number))


if __name__ == "__main__":
    sys.exit(main())
