package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRowWriter(t *testing.T) {
	for _, rows := range []int{0, 1, 3, 1000} {
		path := filepath.Join(t.TempDir(), "a.npy")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewRowWriter(f, 3)
		if err != nil {
			t.Fatal(err)
		}
		var want []float32
		for r := 0; r < rows; r++ {
			row := []float32{float32(r), -float32(r) / 3, 1e-30}
			want = append(want, row...)
			if err := w.WriteRow(row); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteRow([]float32{1}); err == nil {
			t.Fatal("a short row was accepted")
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		shape, data, err := ReadFile(path)
		if err != nil {
			t.Fatalf("%d rows: %v", rows, err)
		}
		if len(shape) != 2 || shape[0] != rows || shape[1] != 3 {
			t.Fatalf("shape %v, want [%d 3]", shape, rows)
		}
		for i := range want {
			if data[i] != want[i] {
				t.Fatalf("value %d: %v, want %v", i, data[i], want[i])
			}
		}
		// The same bytes as the whole-value writer, but for header padding.
		var whole bytes.Buffer
		if err := Write(&whole, []int{rows, 3}, want); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(path)
		if !bytes.Equal(raw[len(raw)-4*len(want):], whole.Bytes()[whole.Len()-4*len(want):]) {
			t.Fatal("data differs from Write's")
		}
		if len(raw)%64 != (4*len(want))%64 {
			t.Fatalf("header of %d bytes is not a multiple of 64", len(raw)-4*len(want))
		}
	}
}
