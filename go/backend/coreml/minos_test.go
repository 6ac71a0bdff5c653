package coreml

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/minilm-coreml/minilm/go/mlpackage"
)

// writePackage writes a minimal .mlpackage whose root model declares its specification
// version (Model.proto field 1) and, optionally, user-defined metadata
// (Model.description.metadata.userDefined).
func writePackage(t *testing.T, dir string, spec int, userDefined ...[2]string) string {
	t.Helper()
	pkg := filepath.Join(dir, "m.mlpackage")
	model := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(spec))
	if len(userDefined) > 0 {
		var meta []byte
		meta = protowire.AppendTag(meta, 3, protowire.BytesType) // author, skipped
		meta = protowire.AppendString(meta, "test")
		for _, kv := range userDefined {
			var entry []byte
			entry = protowire.AppendTag(entry, 1, protowire.BytesType)
			entry = protowire.AppendString(entry, kv[0])
			entry = protowire.AppendTag(entry, 2, protowire.BytesType)
			entry = protowire.AppendString(entry, kv[1])
			meta = protowire.AppendTag(meta, 100, protowire.BytesType)
			meta = protowire.AppendBytes(meta, entry)
		}
		var desc []byte
		desc = protowire.AppendTag(desc, 100, protowire.BytesType)
		desc = protowire.AppendBytes(desc, meta)
		model = protowire.AppendTag(model, 2, protowire.BytesType)
		model = protowire.AppendBytes(model, desc)
	}
	writeTree(t, pkg, map[string]string{
		"Manifest.json": `{"fileFormatVersion": "1.0.0", "rootModelIdentifier": "r",
			"itemInfoEntries": {"r": {"author": "com.apple.CoreML", "name": "model.mlmodel", "path": "com.apple.CoreML/model.mlmodel"}}}`,
		"Data/com.apple.CoreML/model.mlmodel": string(model),
	})
	return pkg
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

// TestSpecVersionOfRealPackage reads the specification version of a package coremltools 9.0
// wrote (go/mlpackage/testdata/tiny.mlpackage, minimum_deployment_target iOS18) and checks it
// against package mlpackage's full decoder.
func TestSpecVersionOfRealPackage(t *testing.T) {
	for _, name := range []string{"tiny.mlpackage", "tiny_single.mlpackage"} {
		pkg := filepath.Join("..", "..", "mlpackage", "testdata", name)
		if _, err := os.Stat(pkg); err != nil {
			if name == "tiny.mlpackage" {
				t.Fatal(err)
			}
			continue
		}
		b, err := packageRootModel(pkg)
		require.NoError(t, err)
		got, err := specVersionField(b)
		require.NoError(t, err)
		p, err := mlpackage.Open(pkg)
		require.NoError(t, err)
		require.Equal(t, int(p.Model.SpecificationVersion), got, name)
		require.Equal(t, p.Model.Description.Metadata.UserDefined, userDefinedField(b), name)
		if name == "tiny.mlpackage" {
			require.Equal(t, 9, got)
		}
	}
	_, err := specVersionField([]byte{0x12, 0x05, 'a'})
	require.ErrorContains(t, err, "truncated")
	_, err = specVersionField(nil)
	require.ErrorContains(t, err, "no specificationVersion")
}
