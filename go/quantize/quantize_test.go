package quantize

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/npy"
)

type fixture struct {
	Rows, Dim int
	Ranges    [2][]float32
	Int8      blob `json:"int8"`
	Uint8     blob `json:"uint8"`
	Binary    blob `json:"binary"`
	UBinary   blob `json:"ubinary"`
}

type blob struct {
	Shape  []int
	Base64 string
}

func (b blob) bytes(t *testing.T) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b.Base64)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestMatchesSentenceTransformers compares every precision with sentence-transformers'
// quantize_embeddings on the reference vectors (python/reference/make_quantized.py).
func TestMatchesSentenceTransformers(t *testing.T) {
	raw, err := os.ReadFile(testmodel.RepoFile(t, "testdata/fixtures/quantized.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx fixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	shape, data, err := npy.ReadFile(testmodel.RepoFile(t, "testdata/fixtures/embeddings.npy"))
	if err != nil {
		t.Fatal(err)
	}
	dim := shape[1]
	all := make([][]float32, shape[0])
	for i := range all {
		all[i] = data[i*dim : (i+1)*dim]
	}
	r, err := Calibrate(all)
	if err != nil {
		t.Fatal(err)
	}
	for d := 0; d < dim; d++ {
		if r.Min[d] != fx.Ranges[0][d] || r.Max[d] != fx.Ranges[1][d] {
			t.Fatalf("dimension %d: range [%v, %v], sentence-transformers [%v, %v]", d, r.Min[d], r.Max[d], fx.Ranges[0][d], fx.Ranges[1][d])
		}
	}
	if fx.Rows < 100 || fx.Dim != dim {
		t.Fatalf("fixture has %d rows of %d dimensions", fx.Rows, fx.Dim)
	}
	i8, u8, bin, ubin := fx.Int8.bytes(t), fx.Uint8.bytes(t), fx.Binary.bytes(t), fx.UBinary.bytes(t)
	nb := UBinary.Len(dim)
	gotI8, gotU8 := make([]int8, dim), make([]uint8, dim)
	gotBin, gotUBin := make([]int8, nb), make([]uint8, nb)
	mismatches := map[string]int{}
	for i := 0; i < fx.Rows; i++ {
		v := all[i]
		if err := r.Int8(gotI8, v); err != nil {
			t.Fatal(err)
		}
		if err := r.Uint8(gotU8, v); err != nil {
			t.Fatal(err)
		}
		PackBitsInt8(gotBin, v)
		PackBits(gotUBin, v)
		for d := 0; d < dim; d++ {
			if byte(gotI8[d]) != i8[i*dim+d] {
				mismatches["int8"]++
			}
			if gotU8[d] != u8[i*dim+d] {
				mismatches["uint8"]++
			}
		}
		for k := 0; k < nb; k++ {
			if byte(gotBin[k]) != bin[i*nb+k] {
				mismatches["binary"]++
			}
			if gotUBin[k] != ubin[i*nb+k] {
				mismatches["ubinary"]++
			}
		}
	}
	for p, n := range mismatches {
		t.Errorf("%s: %d of %d values differ from sentence-transformers", p, n, fx.Rows*dim)
	}
}

func TestEdges(t *testing.T) {
	r := Ranges{Min: []float32{-1, 0, 2}, Max: []float32{1, 0, 1}} // dims 1 and 2 have empty ranges
	i8, u8 := make([]int8, 3), make([]uint8, 3)
	tests := []struct {
		name string
		v    []float32
		i8   []int8
		u8   []uint8
	}{
		{"bounds", []float32{-1, 0, 2}, []int8{-128, -128, -128}, []uint8{0, 0, 0}},
		// (1 - -1) / (2/255) is 254.99998 in float32: numpy truncates it to 254, and so do we.
		{"top", []float32{1, 5, 5}, []int8{126, -128, -128}, []uint8{254, 0, 0}},
		{"saturate above", []float32{3, 0, 0}, []int8{127, -128, -128}, []uint8{255, 0, 0}},
		{"saturate below", []float32{-3, 0, 0}, []int8{-128, -128, -128}, []uint8{0, 0, 0}},
		{"middle truncates toward zero", []float32{0, 0, 0}, []int8{0, -128, -128}, []uint8{127, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := r.Int8(i8, tc.v); err != nil {
				t.Fatal(err)
			}
			if err := r.Uint8(u8, tc.v); err != nil {
				t.Fatal(err)
			}
			for d := range tc.v {
				if i8[d] != tc.i8[d] || u8[d] != tc.u8[d] {
					t.Errorf("%v: int8 %v uint8 %v, want %v %v", tc.v, i8, u8, tc.i8, tc.u8)
					break
				}
			}
		})
	}
	if err := r.Int8(i8, []float32{1, 2}); err == nil {
		t.Error("Int8 accepted an embedding of the wrong length")
	}
	if _, err := Calibrate(nil); err != ErrNoCalibration {
		t.Errorf("Calibrate(nil) = %v, want ErrNoCalibration", err)
	}
	if _, err := Calibrate([][]float32{{1, 2}, {1}}); err == nil {
		t.Error("Calibrate accepted ragged embeddings")
	}
	// Binary: 10 dimensions pack into 2 bytes, MSB first, zero-padded.
	v := []float32{1, -1, 0, 2, 0, 0, 0, 0.5, -3, 7}
	ub := make([]uint8, 2)
	PackBits(ub, v)
	if ub[0] != 0b10010001 || ub[1] != 0b01000000 {
		t.Errorf("UBinary = %08b, want [10010001 01000000]", ub)
	}
	b := make([]int8, 2)
	PackBitsInt8(b, v)
	if b[0] != int8(0b10010001-128) || b[1] != int8(0b01000000-128) {
		t.Errorf("Binary = %v", b)
	}
	if Hamming(ub, []uint8{0, 0}) != 4 {
		t.Errorf("Hamming = %d, want 4", Hamming(ub, []uint8{0, 0}))
	}
}

func TestParsePrecision(t *testing.T) {
	for _, p := range []Precision{Float32, Int8, Uint8, Binary, UBinary} {
		got, err := ParsePrecision(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePrecision(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := ParsePrecision("float16"); err == nil {
		t.Error("ParsePrecision accepted float16")
	}
	if UBinary.Len(384) != 48 || Int8.Len(384) != 384 {
		t.Error("Len")
	}
}
