// Package safetensors reads tensors from a .safetensors file: an 8-byte little-endian header
// length, a JSON header mapping tensor names to dtype, shape and data offsets, then the data.
//
// Only what an encoder needs is supported: reading F32, F16 and BF16 tensors as float32. Every
// problem with the file is returned as an error naming the file and what is wrong; corrupt
// input never panics (FuzzParse checks this).
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/minilm-coreml/minilm/go/internal/float16"
	"slices"
)

// MaxHeaderLen bounds the JSON header, as the reference implementation does (100 MB).
const MaxHeaderLen = 100 << 20

// Tensor describes one tensor of the file.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	// Begin and End are byte offsets into the data section (after the header).
	Begin, End int64
}

// File is an open safetensors file. Methods are safe for concurrent use.
type File struct {
	name     string
	r        io.ReaderAt
	closer   io.Closer
	dataOff  int64
	tensors  map[string]Tensor
	Metadata map[string]string
}

// Open opens and parses the header of the safetensors file at path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	sf, err := Parse(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	sf.closer = f
	return sf, nil
}

// Parse reads the header of a safetensors file of the given size from r; name is used in
// error messages.
func Parse(r io.ReaderAt, size int64, name string) (*File, error) {
	sf := &File{name: name, r: r}
	var lenBuf [8]byte
	if size < 8 {
		return nil, sf.errorf("truncated header: file has %d bytes, the header length needs 8", size)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, sf.errorf("reading header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderLen {
		return nil, sf.errorf("header length %d exceeds the %d-byte limit", n, MaxHeaderLen)
	}
	if int64(n) > size-8 {
		return nil, sf.errorf("header length %d goes beyond the end of the %d-byte file (truncated?)", n, size)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, sf.errorf("reading %d-byte header: %v", n, err)
	}
	sf.dataOff = 8 + int64(n)
	dataLen := size - sf.dataOff

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, sf.errorf("bad JSON header: %v", err)
	}
	sf.tensors = make(map[string]Tensor, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &sf.Metadata); err != nil {
				return nil, sf.errorf("bad __metadata__: %v", err)
			}
			continue
		}
		var e struct {
			DType   string  `json:"dtype"`
			Shape   []int64 `json:"shape"`
			Offsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, sf.errorf("tensor %q: bad header entry: %v", name, err)
		}
		if len(e.Offsets) != 2 {
			return nil, sf.errorf("tensor %q: data_offsets has %d values, want 2", name, len(e.Offsets))
		}
		b, end := e.Offsets[0], e.Offsets[1]
		if b < 0 || end < b {
			return nil, sf.errorf("tensor %q: bad data_offsets [%d, %d]", name, b, end)
		}
		if end > dataLen {
			return nil, sf.errorf("tensor %q: data range [%d, %d) is out of bounds of the %d-byte data section (truncated file?)", name, b, end, dataLen)
		}
		t := Tensor{Name: name, DType: e.DType, Begin: b, End: end, Shape: make([]int, len(e.Shape))}
		elems := int64(1)
		for i, d := range e.Shape {
			if d < 0 || d > dataLen {
				return nil, sf.errorf("tensor %q: bad shape %v", name, e.Shape)
			}
			t.Shape[i] = int(d)
			if d != 0 && elems > math.MaxInt64/d {
				return nil, sf.errorf("tensor %q: shape %v overflows", name, e.Shape)
			}
			elems *= d
		}
		if es := int64(elemSize(e.DType)); es > 0 && (elems > (end-b)/es || elems*es != end-b) {
			return nil, sf.errorf("tensor %q: shape %v of %s has %d elements of %d bytes, data_offsets span %d bytes", name, e.Shape, e.DType, elems, es, end-b)
		}
		sf.tensors[name] = t
	}
	return sf, nil
}

// Close closes the underlying file (if Open opened it).
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// Name is the file name used in errors.
func (f *File) Name() string { return f.name }

// Names lists the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.tensors))
	for n := range f.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tensor returns the description of a tensor.
func (f *File) Tensor(name string) (Tensor, bool) {
	t, ok := f.tensors[name]
	return t, ok
}

// ErrMissing is wrapped by errors for tensors the file does not hold.
var ErrMissing = errors.New("missing tensor")

// Float32 reads a tensor as float32 values, converting F16 and BF16. If shape is given, the
// tensor must have exactly that shape.
func (f *File) Float32(name string, shape ...int) ([]float32, error) {
	t, ok := f.tensors[name]
	if !ok {
		return nil, f.errorf("%w %q", ErrMissing, name)
	}
	if shape != nil && !slices.Equal(t.Shape, shape) {
		return nil, f.errorf("tensor %q has shape %v, want %v", name, t.Shape, shape)
	}
	es := elemSize(t.DType)
	switch t.DType {
	case "F32", "F16", "BF16":
	default:
		return nil, f.errorf("tensor %q has dtype %s, want F32, F16 or BF16", name, t.DType)
	}
	n := (t.End - t.Begin) / int64(es)
	raw := make([]byte, t.End-t.Begin)
	if _, err := f.r.ReadAt(raw, f.dataOff+t.Begin); err != nil {
		return nil, f.errorf("reading tensor %q: %v", name, err)
	}
	out := make([]float32, n)
	switch t.DType {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case "F16":
		for i := range out {
			out[i] = float16.ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case "BF16":
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	}
	return out, nil
}

func (f *File) errorf(format string, args ...interface{}) error {
	return fmt.Errorf("safetensors %s: %w", f.name, fmt.Errorf(format, args...))
}

func elemSize(dtype string) int {
	switch dtype {
	case "F64", "I64", "U64":
		return 8
	case "F32", "I32", "U32":
		return 4
	case "F16", "BF16", "I16", "U16":
		return 2
	case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2":
		return 1
	}
	return 0
}
