package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/minilm-coreml/minilm/go/npy"
)

// vectorWriter writes embeddings in input order as they are computed.
type vectorWriter interface {
	write(inputs []input, first int, vecs [][]float32) error
	close() error
}

// jsonlWriter writes {"index":i,"id":...,"embedding":[...]} lines; "id" only when the input
// record had one. Floats use the shortest form that reads back as the same float32.
type jsonlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func newJSONLWriter(w io.Writer) *jsonlWriter {
	return &jsonlWriter{w: bufio.NewWriterSize(w, 256<<10)}
}

func (j *jsonlWriter) write(inputs []input, first int, vecs [][]float32) error {
	for k, v := range vecs {
		b := append(j.buf[:0], `{"index":`...)
		b = strconv.AppendInt(b, int64(first+k), 10)
		if id := inputs[first+k].id; id != nil {
			b = append(b, `,"id":`...)
			b = append(b, id...)
		}
		b = append(b, `,"embedding":[`...)
		for c, x := range v {
			if c > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
		}
		b = append(b, "]}\n"...)
		j.buf = b
		if _, err := j.w.Write(b); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	return nil
}

func (j *jsonlWriter) close() error {
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// npyWriter writes one float32 [N, dim] array.
type npyWriter struct{ w *npy.Writer }

func newNPYWriter(w io.Writer, n, dim int) (*npyWriter, error) {
	nw, err := npy.NewWriter(w, []int{n, dim})
	if err != nil {
		return nil, err
	}
	return &npyWriter{w: nw}, nil
}

func (n *npyWriter) write(_ []input, _ int, vecs [][]float32) error {
	for _, v := range vecs {
		if err := n.w.WriteFloats(v); err != nil {
			return err
		}
	}
	return nil
}

func (n *npyWriter) close() error { return n.w.Close() }
