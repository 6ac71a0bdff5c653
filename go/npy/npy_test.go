package npy

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// numpy2x2 is np.save of np.array([[1.5, -2], [0, 3.25]], dtype='<f4') (numpy 1.26).
const numpy2x2 = "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" +
	"                                                          \n" +
	"\x00\x00\xc0?\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00P@"

func TestReadNumPy(t *testing.T) {
	shape, data, err := Read(strings.NewReader(numpy2x2))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shape, []int{2, 2}) || !reflect.DeepEqual(data, []float32{1.5, -2, 0, 3.25}) {
		t.Fatalf("got %v %v", shape, data)
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		shape []int
		data  []float32
	}{
		{"matrix", []int{2, 3}, []float32{1, 2, 3, -4, 5.5, float32(math.Inf(1))}},
		{"empty rows", []int{0, 384}, []float32{}},
		{"vector", []int{3}, []float32{0.25, 0, -1}},
		{"scalar", []int{}, []float32{7}},
		{"rank 3", []int{2, 1, 2}, []float32{1, 2, 3, 4}},
		{"embeddings", []int{10, 384}, make([]float32, 3840)},
		// A shape with many dimensions needs a longer header, still 64-byte aligned.
		{"long header", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}, []float32{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.shape, tt.data); err != nil {
				t.Fatal(err)
			}
			hlen := buf.Len() - 4*len(tt.data)
			if hlen%64 != 0 || buf.Bytes()[hlen-1] != '\n' {
				t.Errorf("header of %d bytes is not 64-byte aligned and newline-terminated", hlen)
			}
			shape, data, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(shape, tt.shape) || !reflect.DeepEqual(data, tt.data) {
				t.Fatalf("round trip: got %v %v, want %v %v", shape, data, tt.shape, tt.data)
			}
		})
	}
}

func TestMatrixAndFile(t *testing.T) {
	rows := [][]float32{{1, 2}, {3, 4}, {5, 6}}
	var buf bytes.Buffer
	if err := WriteMatrix(&buf, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMatrix(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("got %v", got)
	}
	if err := WriteMatrix(&buf, [][]float32{{1}, {1, 2}}); err == nil {
		t.Error("ragged rows: want an error")
	}

	name := filepath.Join(t.TempDir(), "x.npy")
	if err := WriteFile(name, []int{3}, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	shape, data, err := ReadFile(name)
	if err != nil || !reflect.DeepEqual(shape, []int{3}) || len(data) != 3 {
		t.Fatalf("ReadFile: %v %v %v", shape, data, err)
	}
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "missing.npy")); err == nil {
		t.Error("missing file: want an error")
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, []int{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]float32{{1, 2}, {3, 4}, {5, 6}} {
		if err := w.WriteFloats(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteFloats([]float32{7}); err == nil {
		t.Error("value beyond the shape: want an error")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	shape, data, err := Read(&buf)
	if err != nil || !reflect.DeepEqual(shape, []int{3, 2}) || !reflect.DeepEqual(data, []float32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("got %v %v %v", shape, data, err)
	}

	w, err = NewWriter(&buf, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Error("missing values: want an error from Close")
	}
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []int{2, 2}, []float32{1}); err == nil {
		t.Error("shape/data mismatch: want an error")
	}
	if err := Write(&buf, []int{1}, []float32{1, 2}); err == nil {
		t.Error("too many values: want an error")
	}
	if err := Write(&buf, []int{-1}, nil); err == nil {
		t.Error("negative dimension: want an error")
	}
}

func TestReadErrors(t *testing.T) {
	header := func(dict string) string {
		return "\x93NUMPY\x01\x00" + string([]byte{byte(len(dict)), 0}) + dict
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "magic"},
		{"bad magic", "PK\x03\x04zipfile", "bad magic"},
		{"version", "\x93NUMPY\x09\x00", "version 9.0"},
		{"float64", header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n"), "float32"},
		{"big endian", header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n"), "float32"},
		{"fortran", header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n"), "Fortran"},
		{"no shape", header("{'descr': '<f4', 'fortran_order': False, }\n"), "no shape"},
		{"bad shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }\n"), "bad dimension"},
		{"huge shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999, 99999999), }\n"), "too large"},
		{"truncated header", "\x93NUMPY\x01\x00\x40\x00{'descr'", "reading header"},
		{"truncated data", numpy2x2[:len(numpy2x2)-3], "value 3 of 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Read(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
