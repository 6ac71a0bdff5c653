package coreml

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writePackage writes a minimal .mlpackage whose root model declares its specification
// version (Model.proto field 1) and, optionally, user-defined metadata
// (Model.description.metadata.userDefined).
func writePackage(t *testing.T, dir string, spec int, userDefined ...[2]string) string {
	t.Helper()
	pkg := filepath.Join(dir, "m.mlpackage")
	model := binary.AppendUvarint(pbTag(nil, 1, 0), uint64(spec))
	if len(userDefined) > 0 {
		var meta []byte
		meta = pbTag(meta, 3, 2) // author, skipped
		meta = pbBytes(meta, "test")
		for _, kv := range userDefined {
			var entry []byte
			entry = pbTag(entry, 1, 2)
			entry = pbBytes(entry, kv[0])
			entry = pbTag(entry, 2, 2)
			entry = pbBytes(entry, kv[1])
			meta = pbTag(meta, 100, 2)
			meta = pbBytes(meta, entry)
		}
		var desc []byte
		desc = pbTag(desc, 100, 2)
		desc = pbBytes(desc, meta)
		model = pbTag(model, 2, 2)
		model = pbBytes(model, desc)
	}
	writeTree(t, pkg, map[string]string{
		"Manifest.json": `{"fileFormatVersion": "1.0.0", "rootModelIdentifier": "r",
			"itemInfoEntries": {"r": {"author": "com.apple.CoreML", "name": "model.mlmodel", "path": "com.apple.CoreML/model.mlmodel"}}}`,
		"Data/com.apple.CoreML/model.mlmodel": string(model),
	})
	return pkg
}

// pbTag and pbBytes write protobuf's wire format (a field tag; a length-delimited value),
// enough for the test models above without the protobuf module.
func pbTag(b []byte, field, wire uint64) []byte { return binary.AppendUvarint(b, field<<3|wire) }

func pbBytes[T string | []byte](b []byte, v T) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func TestMinMacOSForSpec(t *testing.T) {
	tests := []struct {
		spec int
		want string
	}{{1, "10.13"}, {3, "10.14"}, {4, "10.15"}, {7, "13"}, {8, "14"}, {9, "15"}, {10, "26"}}
	for _, tt := range tests {
		v, ok := MinMacOSForSpec(tt.spec)
		require.True(t, ok, "spec %d", tt.spec)
		require.Equal(t, tt.want, v.String(), "spec %d", tt.spec)
	}
	_, ok := MinMacOSForSpec(11)
	require.False(t, ok)
}

func TestOSVersionAtLeast(t *testing.T) {
	v14_4 := OSVersion{14, 4, 0}
	require.True(t, v14_4.AtLeast(OSVersion{14, 0, 0}))
	require.True(t, v14_4.AtLeast(v14_4))
	require.False(t, v14_4.AtLeast(OSVersion{14, 4, 1}))
	require.False(t, v14_4.AtLeast(OSVersion{15, 0, 0}))
	require.True(t, OSVersion{26, 0, 0}.AtLeast(OSVersion{15, 7, 3}))
	require.Equal(t, "10.13.2", OSVersion{10, 13, 2}.String())
}

func TestReadModelRequirement(t *testing.T) {
	dir := t.TempDir()
	compiled := func(name, metadata string) string {
		p := filepath.Join(dir, name+".mlmodelc")
		writeTree(t, p, map[string]string{"metadata.json": metadata})
		return p
	}
	tests := []struct {
		name    string
		path    string
		want    ModelRequirement
		ok      bool
		wantErr string
	}{
		{"mlpackage spec 9", writePackage(t, filepath.Join(dir, "p9"), 9),
			ModelRequirement{OSVersion{15, 0, 0}, 9, "model specification version 9"}, true, ""},
		{"mlpackage spec 8", writePackage(t, filepath.Join(dir, "p8"), 8),
			ModelRequirement{OSVersion{14, 0, 0}, 8, "model specification version 8"}, true, ""},
		{"mlpackage unknown spec", writePackage(t, filepath.Join(dir, "p99"), 99), ModelRequirement{}, false, "unknown Core ML specification version 99"},
		{"mlpackage with the converter's minimum_os reasons", writePackage(t, filepath.Join(dir, "pr"), 9,
			[2]string{"com.github.apple.coremltools.version", "9.0"},
			[2]string{MinimumOSKey, `{"iOS":"18.0","macOS":"15.0","reasons":["palettization (constexpr_lut_to_dense, iOS 18 opset)"],"specification_version":9}`}),
			ModelRequirement{OSVersion{15, 0, 0}, 9, "model specification version 9: palettization (constexpr_lut_to_dense, iOS 18 opset)"}, true, ""},
		{"mlpackage whose metadata asks for more than its spec", writePackage(t, filepath.Join(dir, "pm"), 8,
			[2]string{MinimumOSKey, `{"macOS":"14.4","reasons":[]}`}),
			ModelRequirement{OSVersion{14, 4, 0}, 8, MinimumOSKey + " metadata"}, true, ""},
		{"mlpackage with unreadable minimum_os", writePackage(t, filepath.Join(dir, "pu"), 8, [2]string{MinimumOSKey, "{"}),
			ModelRequirement{OSVersion{14, 0, 0}, 8, "model specification version 8"}, true, ""},
		{"mlmodelc userDefinedMetadata", compiled("u", `[{"specificationVersion": 9, "availability": {"macOS": "15.0"},
			"userDefinedMetadata": {"minilm.minimum_os": "{\"macOS\":\"15.0\",\"reasons\":[\"int8 weights\"]}"}}]`),
			ModelRequirement{OSVersion{15, 0, 0}, 9, "model specification version 9: int8 weights"}, true, ""},
		{"mlmodelc availability", compiled("a", `[{"specificationVersion": 9, "availability": {"macOS": "15.0", "iOS": "18.0"}}]`),
			ModelRequirement{OSVersion{15, 0, 0}, 9, "model specification version 9"}, true, ""},
		{"mlmodelc spec only", compiled("s", `[{"specificationVersion": 8}]`),
			ModelRequirement{OSVersion{14, 0, 0}, 8, "model specification version 8"}, true, ""},
		{"mlmodelc says nothing", compiled("n", `[{}]`), ModelRequirement{}, false, ""},
		{"mlmodelc bad json", compiled("b", `{`), ModelRequirement{}, false, "metadata.json"},
		{"mlmodelc without metadata.json", filepath.Join(dir, "none.mlmodelc"), ModelRequirement{}, false, ""},
		{"mlmodel file", filepath.Join(dir, "x.mlmodel"), ModelRequirement{}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := ReadModelRequirement(tt.path)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestCheckModelOS: on macOS 14 a spec-9 package is refused before Core ML sees it, with an
// error that names the requirement and matches ErrUnavailable; spec 8 passes.
func TestCheckModelOS(t *testing.T) {
	dir := t.TempDir()
	p9 := writePackage(t, filepath.Join(dir, "9"), 9)
	p8 := writePackage(t, filepath.Join(dir, "8"), 8)
	sonoma := OSVersion{14, 5, 0}

	err := checkModelOS(p9, sonoma)
	var ue *UnavailableError
	require.True(t, errors.As(err, &ue), "%v", err)
	require.Equal(t, "requires macOS 15 (model specification version 9), this is macOS 14.5", ue.Reason)
	require.ErrorIs(t, err, ErrUnavailable)
	require.Equal(t, "coreml unavailable: requires macOS 15 (model specification version 9), this is macOS 14.5", err.Error())

	require.NoError(t, checkModelOS(p9, OSVersion{15, 0, 0}))
	require.NoError(t, checkModelOS(p8, sonoma))
	// Unreadable or silent packages are left to Core ML.
	require.NoError(t, checkModelOS(filepath.Join(dir, "missing.mlpackage"), sonoma))
}

func TestUnavailableErrorWraps(t *testing.T) {
	err := error(&UnavailableError{Reason: "cannot prepare model m.mlpackage", Err: &fs.PathError{Op: "stat", Path: "m.mlpackage", Err: fs.ErrNotExist}})
	require.ErrorIs(t, err, ErrUnavailable)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Contains(t, err.Error(), "coreml unavailable: cannot prepare model m.mlpackage: stat m.mlpackage:")
}
