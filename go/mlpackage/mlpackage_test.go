package mlpackage

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// testdata/tiny.mlpackage is written by coremltools 9.0
// (python/reference/make_tiny_mlpackage.py) with the op and storage types of the converted
// MiniLM variants at toy sizes.
const tinyDir = "testdata/tiny.mlpackage"

var (
	tinyModel   = filepath.Join(tinyDir, "Data/com.apple.CoreML/model.mlmodel")
	tinyWeights = filepath.Join(tinyDir, "Data/com.apple.CoreML/weights/weight.bin")
)

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenTiny(t *testing.T) {
	p, err := Open(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Model
	if m.SpecificationVersion != 9 {
		t.Errorf("specificationVersion %d, want 9 (iOS18)", m.SpecificationVersion)
	}
	var names []string
	for _, in := range m.Description.Inputs {
		names = append(names, in.Name)
		a := in.Array
		if a == nil || a.DataType != ArrayInt32 {
			t.Fatalf("input %s: %+v, want an INT32 multi-array", in.Name, a)
		}
		want := [][]int64{{1, 4}, {2, 4}, {1, 8}, {2, 8}}
		if !reflect.DeepEqual(a.EnumeratedShapes, want) {
			t.Errorf("input %s enumerated shapes %v, want %v", in.Name, a.EnumeratedShapes, want)
		}
		if !reflect.DeepEqual(a.Shape, []int64{1, 4}) {
			t.Errorf("input %s default shape %v", in.Name, a.Shape)
		}
	}
	if !reflect.DeepEqual(names, []string{"input_ids", "attention_mask"}) {
		t.Errorf("inputs %v", names)
	}
	if len(m.Description.Outputs) != 1 || m.Description.Outputs[0].Name != "last_hidden_state" {
		t.Errorf("outputs %+v", m.Description.Outputs)
	}
	if v := m.Description.Metadata.UserDefined["minilm.variant"]; v != "tiny" {
		t.Errorf("userDefined minilm.variant = %q", v)
	}
	if v := m.Description.Metadata.UserDefined["com.github.apple.coremltools.version"]; v != "9.0" {
		t.Errorf("coremltools version %q", v)
	}
	fn := m.Program.Functions["main"]
	if fn == nil || fn.Opset != "CoreML8" || len(fn.Inputs) != 2 {
		t.Fatalf("main function %+v", fn)
	}
	if tt := fn.Inputs[0].Type.Tensor; tt.DataType != Int32 || tt.Rank != 2 || tt.Dims[0].Known {
		t.Errorf("input_ids type %+v", tt)
	}
	blk, err := fn.Block()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(blk.Outputs, []string{"last_hidden_state"}) {
		t.Errorf("block outputs %v", blk.Outputs)
	}
	types := map[string]int{}
	blobs := 0
	for _, op := range blk.Operations {
		types[op.Type]++
		for _, binds := range op.Inputs {
			for _, bd := range binds {
				if bd.Value != nil && bd.Value.Blob != nil {
					blobs++
					if _, err := p.ConstValue(bd.Value); err != nil {
						t.Errorf("%s input: %v", op.Name(), err)
					}
				}
			}
		}
		if op.Type != "const" {
			continue
		}
		v := op.Attributes["val"]
		c, err := p.ConstValue(v)
		if err != nil {
			t.Fatalf("const %s: %v", op.Name(), err)
		}
		if v.Blob != nil {
			blobs++
			if v.Blob.FileName != "@model_path/weights/weight.bin" {
				t.Errorf("blob file %q", v.Blob.FileName)
			}
		}
		if len(c.Values) != numel(c.Shape) && c.DataType != String {
			t.Errorf("const %s: %d values for shape %v", op.Name(), len(c.Values), c.Shape)
		}
	}
	for _, want := range []string{"constexpr_blockwise_shift_scale", "constexpr_lut_to_dense", "linear", "matmul", "softmax",
		"layer_norm", "gelu", "quantize", "dequantize", "gather", "concat", "slice_by_index", "transpose", "reshape"} {
		if types[want] == 0 {
			t.Errorf("no %s op in the tiny program (%v)", want, types)
		}
	}
	f, err := p.Blob("@model_path/weights/weight.bin")
	if err != nil {
		t.Fatal(err)
	}
	metas, err := f.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != int(f.Count) || blobs == 0 || len(metas) > blobs {
		t.Errorf("%d blobs walked, header counts %d, %d blob consts", len(metas), f.Count, blobs)
	}
	seen := map[BlobDataType]bool{}
	for _, m := range metas {
		seen[m.DataType] = true
	}
	for _, dt := range []BlobDataType{BlobInt4, BlobUInt2, BlobFloat16} {
		if !seen[dt] {
			t.Errorf("tiny weight.bin has no %v blob (%v)", dt, seen)
		}
	}
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// TestTinyInt4Values checks the int4 unpacking against the values the generator wrote:
// w1's data (12×8 values drawn from [-8, 8)) and its offsets (12×2 values in [-2, 2]).
func TestTinyInt4Values(t *testing.T) {
	f, err := OpenBlobFile(tinyWeights)
	if err != nil {
		t.Fatal(err)
	}
	metas, err := f.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	var ranges [][2]float32
	for _, m := range metas {
		if m.DataType != BlobInt4 {
			continue
		}
		n := int(m.Size*8-m.PaddingBits) / 4
		v, err := f.Elements(m.MetaOffset, Int4, n)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := float32(0), float32(0)
		for _, x := range v {
			if x < lo {
				lo = x
			}
			if x > hi {
				hi = x
			}
		}
		ranges = append(ranges, [2]float32{lo, hi})
	}
	want := [][2]float32{{-2, 2}, {-8, 7}}
	sort.Slice(ranges, func(i, j int) bool { return ranges[i][1] < ranges[j][1] })
	if !reflect.DeepEqual(ranges, want) {
		t.Errorf("int4 blob value ranges %v, want %v", ranges, want)
	}
}

// packBits packs values of the given width LSB-first, as coremltools does.
func packBits(vals []int, bits int) []byte {
	out := make([]byte, (len(vals)*bits+7)/8)
	for i, v := range vals {
		u := uint(v) & (1<<uint(bits) - 1)
		for b := 0; b < bits; b++ {
			if u&(1<<uint(b)) != 0 {
				bit := i*bits + b
				out[bit/8] |= 1 << uint(bit%8)
			}
		}
	}
	return out
}

func TestDecodeElementsSubByte(t *testing.T) {
	for _, c := range []struct {
		dt   DataType
		vals []int
	}{
		{UInt1, []int{1, 0, 1, 1, 0, 0, 1, 0, 1}},
		{UInt2, []int{0, 1, 2, 3, 3, 2, 1}},
		{UInt3, []int{7, 0, 5, 2, 6, 1, 3}},
		{UInt4, []int{15, 0, 9, 4, 1}},
		{UInt6, []int{63, 0, 17, 42, 5}},
		{Int4, []int{-8, 7, -1, 0, 3, -5}},
	} {
		got, err := DecodeElements(c.dt, packBits(c.vals, c.dt.Bits()), len(c.vals))
		if err != nil {
			t.Fatalf("%v: %v", c.dt, err)
		}
		for i, v := range c.vals {
			if got[i] != float32(v) {
				t.Errorf("%v[%d] = %v, want %d", c.dt, i, got[i], v)
			}
		}
		if _, err := DecodeElements(c.dt, packBits(c.vals, c.dt.Bits()), len(c.vals)+8); err == nil {
			t.Errorf("%v: decoding more values than the bytes hold succeeded", c.dt)
		}
	}
	raw := make([]byte, 6)
	binary.LittleEndian.PutUint16(raw, 0x3c00)         // fp16 1
	binary.LittleEndian.PutUint32(raw[2:], 0xc0000000) // as fp32: -2 (not used)
	if v, err := DecodeElements(Float16, raw[:2], 1); err != nil || v[0] != 1 {
		t.Errorf("fp16: %v %v", v, err)
	}
	if _, err := DecodeElements(Float16, raw[:3], 1); err == nil {
		t.Error("fp16 with a stray byte succeeded")
	}
	if v, err := DecodeElements(Int8, []byte{0xff, 0x80}, 2); err != nil || v[0] != -1 || v[1] != -128 {
		t.Errorf("int8: %v %v", v, err)
	}
}

// TestBlobTruncation: every truncation of a real weight file gives errors, never a panic,
// and a blob whose data is cut off is an error.
func TestBlobTruncation(t *testing.T) {
	full := readFile(t, tinyWeights)
	f, err := ParseBlobFile(full)
	if err != nil {
		t.Fatal(err)
	}
	metas, err := f.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	last := metas[len(metas)-1]
	for _, c := range []struct {
		name    string
		n       int
		wantErr string
	}{
		{"empty", 0, "shorter than its 64-byte header"},
		{"half header", 32, "shorter than its 64-byte header"},
		{"header only", 64, "outside"},
		{"half first metadata", 96, "outside"},
		{"first metadata, no data", 128, "outside"},
		{"last blob's data cut", int(last.DataOffset + last.Size - 1), "outside"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseBlobFile(full[:c.n])
			if err == nil {
				_, err = f.Blobs()
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
	for n := 0; n < len(full); n++ {
		exerciseBlobFile(full[:n])
	}
	bad := append([]byte(nil), full...)
	binary.LittleEndian.PutUint32(bad[64:], 0xDEADBEEE)
	if _, err := mustParse(t, bad).Meta(64); err == nil || !strings.Contains(err.Error(), "sentinel") {
		t.Errorf("bad sentinel: %v", err)
	}
	bad = append([]byte(nil), full...)
	binary.LittleEndian.PutUint32(bad[4:], 1)
	if _, err := ParseBlobFile(bad); err == nil {
		t.Error("version 1 accepted")
	}
	bad = append([]byte(nil), full...)
	binary.LittleEndian.PutUint64(bad[64+8:], 1<<62) // size
	if _, err := mustParse(t, bad).Meta(64); err == nil {
		t.Error("huge size accepted")
	}
}

func mustParse(t *testing.T, b []byte) *BlobFile {
	t.Helper()
	f, err := ParseBlobFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// exerciseBlobFile runs every reader entry point on data; errors are fine, panics are not.
func exerciseBlobFile(data []byte) {
	f, err := ParseBlobFile(data)
	if err != nil {
		return
	}
	metas, _ := f.Blobs()
	for _, m := range metas {
		dt, _ := m.DataType.MIL()
		bits := dt.Bits()
		if bits == 0 {
			continue
		}
		n := int((m.Size*8 - m.PaddingBits) / uint64(bits))
		_, _ = f.Elements(m.MetaOffset, dt, n)
		_, _ = f.Elements(m.MetaOffset, dt, n+1)
	}
	for off := uint64(0); off < uint64(len(data)) && off < 4096; off += 64 {
		_, _, _ = f.Raw(off)
	}
}

// TestModelTruncation: truncated model protobufs give an error or a shorter model, never
// a panic; cutting inside the last field is an error.
func TestModelTruncation(t *testing.T) {
	full := readFile(t, tinyModel)
	if _, err := DecodeModel(full); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		n    int
	}{
		{"last byte cut", len(full) - 1},
		{"half", len(full) / 2},
		{"inside the first tag's length", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := DecodeModel(full[:c.n]); err == nil {
				t.Fatalf("decoding %d of %d bytes succeeded", c.n, len(full))
			}
		})
	}
	for n := 0; n < len(full); n++ {
		exerciseModel(full[:n])
	}
	// Flipping any single byte must not panic either.
	for i := 0; i < len(full); i += 7 {
		b := append([]byte(nil), full...)
		b[i] ^= 0xff
		exerciseModel(b)
	}
}

func exerciseModel(b []byte) {
	m, err := DecodeModel(b)
	if err != nil || m.Program == nil {
		return
	}
	for _, fn := range m.Program.Functions {
		blk, err := fn.Block()
		if err != nil {
			continue
		}
		for _, op := range blk.Operations {
			_ = op.Name()
			for _, v := range op.Attributes {
				_, _ = ImmediateConst(v)
			}
			for _, binds := range op.Inputs {
				for _, bd := range binds {
					if bd.Value != nil {
						_, _ = ImmediateConst(bd.Value)
					}
				}
			}
		}
	}
}

func TestDeepNestingIsAnError(t *testing.T) {
	// A Value whose type is a list of list of … (ValueType.listType = 2, ListType.type = 1).
	vt := []byte{}
	for i := 0; i < 200; i++ {
		inner := append([]byte{0x0a}, appendLen(vt)...) // ListType.type
		vt = append([]byte{0x12}, appendLen(inner)...)  // ValueType.listType
	}
	// List payloads are skipped, not descended into: however deep the list of lists, the
	// value type decodes as a list with no tensor type, and no recursion can overflow.
	got, err := decodeValueType(vt, 0)
	if err != nil {
		t.Fatalf("200 nested list types: %v (list payloads must be skipped, not descended)", err)
	}
	if got.Kind != int(fVTList) || got.Tensor != nil {
		t.Errorf("200 nested list types decoded as kind %d, tensor %v; want kind %d (list), no tensor", got.Kind, got.Tensor, fVTList)
	}
	// Where value types do nest (through Values), the depth limit applies to them too.
	if _, err := decodeValueType(vt, maxDepth+1); !errors.Is(err, errDepth) {
		t.Errorf("a value type past maxDepth: err %v, want errDepth", err)
	}
	blk := []byte{}
	for i := 0; i < 100; i++ {
		op := append([]byte{0x22}, appendLen(blk)...) // Operation.blocks
		blk = append([]byte{0x1a}, appendLen(op)...)  // Block.operations
	}
	if _, err := decodeBlock(blk, 0); err == nil {
		t.Error("100 nested blocks decoded without the depth limit")
	}
}

func appendLen(b []byte) []byte {
	var out []byte
	n := len(b)
	for n >= 0x80 {
		out = append(out, byte(n)|0x80)
		n >>= 7
	}
	out = append(out, byte(n))
	return append(out, b...)
}

func TestManifestErrors(t *testing.T) {
	for _, c := range []struct{ name, json, want string }{
		{"not json", "{", "Manifest.json"},
		{"no root", `{"itemInfoEntries": {}, "rootModelIdentifier": "x"}`, "not among"},
		{"escaping path", `{"itemInfoEntries": {"x": {"path": "../../etc/passwd"}}, "rootModelIdentifier": "x"}`, "inside the package"},
		{"absolute path", `{"itemInfoEntries": {"x": {"path": "/etc/passwd"}}, "rootModelIdentifier": "x"}`, "inside the package"},
	} {
		if _, err := ParseManifest([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("opening a directory without Manifest.json succeeded")
	}
}

func FuzzDecodeModel(f *testing.F) {
	full, err := os.ReadFile(tinyModel)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add(full[:len(full)/2])
	f.Add(full[:100])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		exerciseModel(b)
	})
}

func FuzzBlobFile(f *testing.F) {
	full, err := os.ReadFile(tinyWeights)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add(full[:200])
	f.Add(full[:64])
	f.Fuzz(func(t *testing.T, b []byte) {
		exerciseBlobFile(b)
	})
}

func FuzzDecodeElements(f *testing.F) {
	f.Add(uint8(Int4), []byte{0x12, 0xf8}, 4)
	f.Add(uint8(UInt6), []byte{0xff, 0x01, 0x80}, 3)
	f.Add(uint8(Float16), []byte{0x00, 0x3c}, 1)
	f.Fuzz(func(t *testing.T, dt uint8, raw []byte, n int) {
		if n > 1<<20 {
			return
		}
		v, err := DecodeElements(DataType(dt), raw, n)
		if err == nil && len(v) != n {
			t.Fatalf("%d values for n=%d", len(v), n)
		}
	})
}
