// Package npy reads and writes NumPy .npy files holding little-endian float32 arrays.
//
// It supports exactly what embeddings need: C-order arrays of dtype '<f4' of any rank.
// Files are written in format version 1.0 (or 2.0 when the header is too long for 1.0),
// which numpy.load reads; versions 1.0, 2.0 and 3.0 are read.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

const magic = "\x93NUMPY"

// maxElems bounds the element count a header may declare, so that a corrupt header cannot
// make Read allocate unbounded memory (4 GiB of float32).
const maxElems = 1 << 30

// Write writes data as a float32 array of the given shape. The product of shape must equal
// len(data); an empty shape writes a scalar.
func Write(w io.Writer, shape []int, data []float32) error {
	sw, err := NewWriter(w, shape)
	if err != nil {
		return err
	}
	if err := sw.WriteFloats(data); err != nil {
		return err
	}
	return sw.Close()
}

// Writer streams a float32 array whose shape is known up front, e.g. embeddings written
// batch by batch. Close checks that exactly the declared number of values was written.
type Writer struct {
	bw        *bufio.Writer
	remaining int
	buf       []byte
}

// NewWriter writes the header of a float32 array of the given shape and returns a Writer
// for its values in C order.
func NewWriter(w io.Writer, shape []int) (*Writer, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		n *= d
	}
	if err := writeHeader(w, shape); err != nil {
		return nil, err
	}
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), remaining: n}, nil
}

// WriteFloats appends values to the array.
func (w *Writer) WriteFloats(values []float32) error {
	if len(values) > w.remaining {
		return fmt.Errorf("npy: %d values written beyond the declared shape", len(values)-w.remaining)
	}
	w.remaining -= len(values)
	if cap(w.buf) < 4*len(values) {
		w.buf = make([]byte, 4*len(values))
	}
	b := w.buf[:4*len(values)]
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("npy: writing data: %w", err)
	}
	return nil
}

// Close flushes the values; it fails if fewer values were written than the shape declares.
// It does not close the underlying writer.
func (w *Writer) Close() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("npy: writing data: %w", err)
	}
	if w.remaining != 0 {
		return fmt.Errorf("npy: %d values missing for the declared shape", w.remaining)
	}
	return nil
}

// WriteMatrix writes rows, which must all have the same length, as a 2-D array.
func WriteMatrix(w io.Writer, rows [][]float32) error {
	cols := 0
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	data := make([]float32, 0, len(rows)*cols)
	for i, r := range rows {
		if len(r) != cols {
			return fmt.Errorf("npy: row %d has %d values, row 0 has %d", i, len(r), cols)
		}
		data = append(data, r...)
	}
	return Write(w, []int{len(rows), cols}, data)
}

func writeHeader(w io.Writer, shape []int) error {
	if _, err := w.Write(header(shape, 0)); err != nil {
		return fmt.Errorf("npy: writing header: %w", err)
	}
	return nil
}

// header returns the header of a float32 array of the given shape: magic, version, length
// field, dict, then spaces and a newline up to a multiple of 64 bytes, and at least minTotal
// bytes (a multiple of 64) so that a header written before the shape was known can be
// rewritten in place.
func header(shape []int, minTotal int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)

	version, lenSize := byte(1), 2
	total := len(magic) + 2 + lenSize + len(dict) + 1
	total = (total + 63) / 64 * 64
	if total < minTotal {
		total = minTotal
	}
	if total-len(magic)-2-lenSize > math.MaxUint16 {
		version, lenSize = 2, 4
		total = (len(magic) + 2 + lenSize + len(dict) + 1 + 63) / 64 * 64
	}
	hlen := total - len(magic) - 2 - lenSize

	var buf bytes.Buffer
	buf.WriteString(magic)
	buf.WriteByte(version)
	buf.WriteByte(0)
	if lenSize == 2 {
		_ = binary.Write(&buf, binary.LittleEndian, uint16(hlen))
	} else {
		_ = binary.Write(&buf, binary.LittleEndian, uint32(hlen))
	}
	buf.WriteString(dict)
	buf.WriteString(strings.Repeat(" ", hlen-len(dict)-1))
	buf.WriteByte('\n')
	return buf.Bytes()
}

var (
	descrRE   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	fortranRE = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	shapeRE   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// Read reads a float32 array and returns its shape and values in C order.
func Read(r io.Reader) (shape []int, data []float32, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	pre := make([]byte, len(magic)+2)
	if _, err := io.ReadFull(br, pre); err != nil {
		return nil, nil, fmt.Errorf("npy: reading magic: %w", err)
	}
	if string(pre[:len(magic)]) != magic {
		return nil, nil, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen int
	switch pre[len(magic)] {
	case 1:
		var n uint16
		if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
			return nil, nil, fmt.Errorf("npy: reading header length: %w", err)
		}
		hlen = int(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
			return nil, nil, fmt.Errorf("npy: reading header length: %w", err)
		}
		if n > 1<<20 {
			return nil, nil, fmt.Errorf("npy: header length %d is implausible", n)
		}
		hlen = int(n)
	default:
		return nil, nil, fmt.Errorf("npy: unsupported format version %d.%d", pre[len(magic)], pre[len(magic)+1])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, nil, fmt.Errorf("npy: reading header: %w", err)
	}
	shape, err = parseHeader(string(hdr))
	if err != nil {
		return nil, nil, err
	}
	n := 1
	for _, d := range shape {
		if d != 0 && n > maxElems/d {
			return nil, nil, fmt.Errorf("npy: shape %v is too large", shape)
		}
		n *= d
	}
	data = make([]float32, n)
	var b [4]byte
	for i := range data {
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, nil, fmt.Errorf("npy: reading value %d of %d: %w", i, n, err)
		}
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[:]))
	}
	return shape, data, nil
}

func parseHeader(h string) ([]int, error) {
	m := descrRE.FindStringSubmatch(h)
	if m == nil {
		return nil, fmt.Errorf("npy: header %q has no descr", h)
	}
	if m[1] != "<f4" {
		return nil, fmt.Errorf("npy: dtype %q is not little-endian float32 ('<f4')", m[1])
	}
	m = fortranRE.FindStringSubmatch(h)
	if m == nil {
		return nil, fmt.Errorf("npy: header %q has no fortran_order", h)
	}
	if m[1] == "True" {
		return nil, errors.New("npy: Fortran-order arrays are not supported")
	}
	m = shapeRE.FindStringSubmatch(h)
	if m == nil {
		return nil, fmt.Errorf("npy: header %q has no shape", h)
	}
	shape := []int{}
	for _, f := range strings.Split(m[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		f = strings.TrimSuffix(f, "L") // Python 2 longs
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("npy: bad dimension %q in shape (%s)", f, m[1])
		}
		shape = append(shape, d)
	}
	return shape, nil
}

// ReadMatrix reads a 2-D array and returns it as rows.
func ReadMatrix(r io.Reader) ([][]float32, error) {
	shape, data, err := Read(r)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 {
		return nil, fmt.Errorf("npy: array has shape %v, want 2 dimensions", shape)
	}
	rows := make([][]float32, shape[0])
	for i := range rows {
		rows[i] = data[i*shape[1] : (i+1)*shape[1] : (i+1)*shape[1]]
	}
	return rows, nil
}

// ReadFile reads a float32 array from the named file.
func ReadFile(name string) (shape []int, data []float32, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	shape, data, err = Read(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return shape, data, nil
}

// WriteFile writes a float32 array to the named file, replacing it.
func WriteFile(name string, shape []int, data []float32) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := Write(f, shape, data); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}
