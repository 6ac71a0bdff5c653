// Package modelspec reads the two things the Core ML backend needs from a model file before
// Core ML sees it: Model.specificationVersion and the user-defined metadata, with a scan of
// the protobuf fields in the standard library only.
//
// Package mlpackage decodes whole models with the protobuf library; the backend uses this
// instead so that its darwin build depends on nothing beyond darwinkit and the standard
// library (which the darwin type-check guard must load from source), and so that importers of
// go/embed download no protobuf module. The xcheck test compares the two on real packages.
package modelspec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PackageRootModel reads the serialized root model of an .mlpackage: the manifest names it
// (Manifest.json: rootModelIdentifier → itemInfoEntries[id].path, under Data/).
func PackageRootModel(pkg string) ([]byte, error) {
	mb, err := os.ReadFile(filepath.Join(pkg, "Manifest.json"))
	if err != nil {
		return nil, err
	}
	var man struct {
		Root  string `json:"rootModelIdentifier"`
		Items map[string]struct {
			Path string `json:"path"`
		} `json:"itemInfoEntries"`
	}
	if err := json.Unmarshal(mb, &man); err != nil {
		return nil, fmt.Errorf("%s: Manifest.json: %w", pkg, err)
	}
	item, ok := man.Items[man.Root]
	if !ok || item.Path == "" || filepath.IsAbs(item.Path) || strings.HasPrefix(filepath.Clean(item.Path), "..") {
		return nil, fmt.Errorf("%s: Manifest.json: no usable root model entry %q", pkg, man.Root)
	}
	return os.ReadFile(filepath.Join(pkg, "Data", filepath.FromSlash(item.Path)))
}

// Field numbers of coremltools mlmodel/format/Model.proto (and its Metadata message) that
// this package reads.
const (
	fModelSpecificationVersion = 1   // Model.specificationVersion
	fModelDescription          = 2   // Model.description
	fDescriptionMetadata       = 100 // ModelDescription.metadata
	fMetadataUserDefined       = 100 // Metadata.userDefined, a map<string, string>
	fMapKey, fMapValue         = 1, 2
)

// scanFields calls fn for each top-level field of a serialized protobuf message: wire type 0
// (varint) with v set, wire type 2 (length-delimited) with data set; other wire types are
// skipped.
func scanFields(b []byte, fn func(num, wire, v uint64, data []byte)) error {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("model.mlmodel: bad field tag")
		}
		b = b[n:]
		num, wire := tag>>3, tag&7
		var skip uint64
		switch wire {
		case 0: // varint
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return errors.New("model.mlmodel: bad varint")
			}
			fn(num, wire, v, nil)
			b = b[n:]
			continue
		case 1: // 64-bit
			skip = 8
		case 2: // length-delimited
			l, n := binary.Uvarint(b)
			if n <= 0 {
				return errors.New("model.mlmodel: bad length")
			}
			b = b[n:]
			if l > uint64(len(b)) {
				return errors.New("model.mlmodel: truncated field")
			}
			fn(num, wire, 0, b[:l])
			skip = l
		case 5: // 32-bit
			skip = 4
		default:
			return fmt.Errorf("model.mlmodel: unsupported wire type %d", wire)
		}
		if skip > uint64(len(b)) {
			return errors.New("model.mlmodel: truncated field")
		}
		b = b[skip:]
	}
	return nil
}

// SpecVersion returns Model.specificationVersion of a serialized Model message.
func SpecVersion(b []byte) (int, error) {
	spec, found := 0, false
	err := scanFields(b, func(num, wire, v uint64, _ []byte) {
		if num == fModelSpecificationVersion && wire == 0 && !found {
			spec, found = int(int32(v)), true
		}
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errors.New("model.mlmodel: no specificationVersion")
	}
	return spec, nil
}

// UserDefined returns Model.description.metadata.userDefined of a serialized Model
// message (nil if absent or malformed: it only refines messages).
func UserDefined(b []byte) map[string]string {
	var out map[string]string
	within := func(b []byte, field uint64, fn func([]byte)) {
		scanFields(b, func(num, wire, _ uint64, data []byte) {
			if num == field && wire == 2 {
				fn(data)
			}
		})
	}
	within(b, fModelDescription, func(desc []byte) {
		within(desc, fDescriptionMetadata, func(meta []byte) {
			within(meta, fMetadataUserDefined, func(entry []byte) {
				var k, v string
				scanFields(entry, func(num, wire, _ uint64, data []byte) {
					switch {
					case num == fMapKey && wire == 2:
						k = string(data)
					case num == fMapValue && wire == 2:
						v = string(data)
					}
				})
				if out == nil {
					out = map[string]string{}
				}
				out[k] = v
			})
		})
	})
	return out
}
