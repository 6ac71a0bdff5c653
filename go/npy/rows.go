package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// RowWriter streams a float32 [N, cols] array whose number of rows N is known only at the
// end, e.g. embeddings of an input read as a stream. It reserves a header large enough for
// any row count, writes rows as they come, and on Close seeks back and writes the final
// header in place, so the destination must be seekable (a regular file).
type RowWriter struct {
	ws    io.WriteSeeker
	bw    *bufio.Writer
	cols  int
	rows  int
	hsize int
	buf   []byte
}

// NewRowWriter starts a 2-D float32 array of cols columns at ws's current offset, which
// must be 0.
func NewRowWriter(ws io.WriteSeeker, cols int) (*RowWriter, error) {
	if cols < 0 {
		return nil, fmt.Errorf("npy: negative column count %d", cols)
	}
	h := header([]int{math.MaxInt64, cols}, 0) // the longest header any row count needs
	if _, err := ws.Write(h); err != nil {
		return nil, fmt.Errorf("npy: writing header: %w", err)
	}
	return &RowWriter{ws: ws, bw: bufio.NewWriterSize(ws, 64<<10), cols: cols, hsize: len(h)}, nil
}

// WriteRow appends one row of exactly cols values.
func (w *RowWriter) WriteRow(row []float32) error {
	if len(row) != w.cols {
		return fmt.Errorf("npy: row %d has %d values, want %d", w.rows, len(row), w.cols)
	}
	if cap(w.buf) < 4*len(row) {
		w.buf = make([]byte, 4*len(row))
	}
	b := w.buf[:4*len(row)]
	for i, v := range row {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("npy: writing data: %w", err)
	}
	w.rows++
	return nil
}

// Rows is the number of rows written so far.
func (w *RowWriter) Rows() int { return w.rows }

// Close flushes the rows and writes the header with the final row count. It does not close
// the underlying writer, and leaves its offset at the end of the header.
func (w *RowWriter) Close() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("npy: writing data: %w", err)
	}
	h := header([]int{w.rows, w.cols}, w.hsize)
	if len(h) != w.hsize {
		return fmt.Errorf("npy: header of %d bytes does not fit the %d reserved", len(h), w.hsize)
	}
	if _, err := w.ws.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("npy: rewriting header: %w", err)
	}
	if _, err := w.ws.Write(h); err != nil {
		return fmt.Errorf("npy: rewriting header: %w", err)
	}
	return nil
}
