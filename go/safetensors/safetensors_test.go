package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

type entry struct {
	name  string
	dtype string
	shape []int
	data  []byte
}

// build writes a safetensors image holding the entries in order.
func build(t testing.TB, entries ...entry) []byte {
	hdr := map[string]interface{}{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for _, e := range entries {
		hdr[e.name] = map[string]interface{}{
			"dtype": e.dtype, "shape": e.shape, "data_offsets": []int{len(data), len(data) + len(e.data)},
		}
		data = append(data, e.data...)
	}
	js, err := json.Marshal(hdr)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, binary.LittleEndian, uint64(len(js))))
	buf.Write(js)
	buf.Write(data)
	return buf.Bytes()
}

func f32Bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func u16Bytes(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

func writeFile(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func TestReadDTypes(t *testing.T) {
	img := build(t,
		entry{"w", "F32", []int{2, 2}, f32Bytes(1, -2, 3.5, 1e-30)},
		// 1, -2, 65504 (max half), 2^-24 (smallest subnormal), -0, +Inf
		entry{"h", "F16", []int{6}, u16Bytes(0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00)},
		entry{"b", "BF16", []int{3}, u16Bytes(0x3f80, 0xc040, 0x4049)},
		entry{"ids", "I64", []int{1}, make([]byte, 8)},
	)
	f, err := Open(writeFile(t, img))
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"b", "h", "ids", "w"}, f.Names())
	require.Equal(t, map[string]string{"format": "pt"}, f.Metadata)

	tests := []struct {
		name  string
		shape []int
		want  []float32
	}{
		{"w", []int{2, 2}, []float32{1, -2, 3.5, 1e-30}},
		{"w", nil, []float32{1, -2, 3.5, 1e-30}},
		{"h", []int{6}, []float32{1, -2, 65504, float32(math.Ldexp(1, -24)), float32(math.Copysign(0, -1)), float32(math.Inf(1))}},
		{"b", []int{3}, []float32{1, -3, 3.140625}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Float32(tc.name, tc.shape...)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestErrors(t *testing.T) {
	good := build(t, entry{"w", "F32", []int{2}, f32Bytes(1, 2)}, entry{"ids", "I64", []int{1}, make([]byte, 8)})
	hdrLen := int(binary.LittleEndian.Uint64(good))
	withHeader := func(js string) []byte {
		b := make([]byte, 8, 8+len(js)+8)
		binary.LittleEndian.PutUint64(b, uint64(len(js)))
		return append(append(b, js...), make([]byte, 8)...)
	}
	tests := []struct {
		name    string
		img     []byte
		tensor  string
		shape   []int
		openErr string
		readErr string
	}{
		{name: "empty file", img: nil, openErr: "truncated header: file has 0 bytes"},
		{name: "short length", img: good[:5], openErr: "truncated header"},
		{name: "header cut", img: good[:8+hdrLen/2], openErr: "goes beyond the end"},
		{name: "data cut", img: good[:len(good)-4], openErr: "out of bounds"},
		{name: "huge header length", img: append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, good[8:]...), openErr: "exceeds"},
		{name: "bad JSON", img: withHeader(`{"w": [`), openErr: "bad JSON header"},
		{name: "not an object", img: withHeader(`[1,2]`), openErr: "bad JSON header"},
		{name: "bad entry", img: withHeader(`{"w": {"dtype": 3}}`), openErr: `tensor "w": bad header entry`},
		{name: "one offset", img: withHeader(`{"w": {"dtype": "F32", "shape": [], "data_offsets": [0]}}`), openErr: "data_offsets has 1 values"},
		{name: "reversed offsets", img: withHeader(`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}`), openErr: "bad data_offsets"},
		{name: "shape vs bytes", img: withHeader(`{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}`), openErr: "data_offsets span 8 bytes"},
		{name: "negative dim", img: withHeader(`{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}`), openErr: "bad shape"},
		{name: "overflowing shape", img: withHeader(`{"w": {"dtype": "F32", "shape": [8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8], "data_offsets": [0, 8]}}`), openErr: "overflows"},
		{name: "missing tensor", img: good, tensor: "q", readErr: `missing tensor "q"`},
		{name: "wrong shape", img: good, tensor: "w", shape: []int{1, 2}, readErr: "has shape [2], want [1 2]"},
		{name: "wrong dtype", img: good, tensor: "ids", readErr: "has dtype I64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.img)
			f, err := Open(path)
			if tc.openErr != "" {
				require.ErrorContains(t, err, tc.openErr)
				require.ErrorContains(t, err, path)
				return
			}
			require.NoError(t, err)
			defer f.Close()
			_, err = f.Float32(tc.tensor, tc.shape...)
			require.ErrorContains(t, err, tc.readErr)
			require.ErrorContains(t, err, path)
		})
	}
}

func TestMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.safetensors")
	_, err := Open(p)
	require.ErrorContains(t, err, p)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func FuzzParse(f *testing.F) {
	f.Add(build(f, entry{"w", "F32", []int{2}, f32Bytes(1, 2)}, entry{"h", "F16", []int{1}, u16Bytes(0x3c00)}))
	f.Add(build(f, entry{"b", "BF16", []int{2, 1}, u16Bytes(1, 2)}))
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := Parse(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			return
		}
		for _, n := range sf.Names() {
			tn, _ := sf.Tensor(n)
			v, err := sf.Float32(n)
			if err == nil && int64(len(v))*int64(elemSize(tn.DType)) != tn.End-tn.Begin {
				t.Fatalf("tensor %q: %d values for %d bytes", n, len(v), tn.End-tn.Begin)
			}
			_, _ = sf.Float32(n, tn.Shape...)
		}
	})
}
