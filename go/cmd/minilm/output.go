package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/npy"
)

// vectorWriter writes embeddings in input order as they are computed.
type vectorWriter interface {
	write(i int, id json.RawMessage, emb embed.Embedding) error
	// close completes the output; the destination is committed only after it succeeds.
	close() error
}

// jsonlWriter writes {"index":i,"id":...,"embedding":[...]} lines; "id" only when the input
// record had one. Floats use the shortest form that reads back as the same float32;
// quantized embeddings are written as integers.
type jsonlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func newJSONLWriter(w io.Writer) *jsonlWriter {
	return &jsonlWriter{w: bufio.NewWriterSize(w, 256<<10)}
}

func (j *jsonlWriter) write(i int, id json.RawMessage, emb embed.Embedding) error {
	b := append(j.buf[:0], `{"index":`...)
	b = strconv.AppendInt(b, int64(i), 10)
	if id != nil {
		b = append(b, `,"id":`...)
		b = append(b, id...)
	}
	b = append(b, `,"embedding":[`...)
	switch {
	case emb.Float32 != nil:
		for c, x := range emb.Float32 {
			if c > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
		}
	case emb.Int8 != nil:
		for c, x := range emb.Int8 {
			if c > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(x), 10)
		}
	default:
		for c, x := range emb.Uint8 {
			if c > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(x), 10)
		}
	}
	b = append(b, "]}\n"...)
	j.buf = b
	if _, err := j.w.Write(b); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

func (j *jsonlWriter) close() error {
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// npyWriter writes one float32 [N, dim] array whose N is known at the end. A seekable
// destination gets the rows directly; any other (standard output, a pipe) gets them from a
// spool file in the temporary directory once the header can be written, so memory stays
// bounded either way.
type npyWriter struct {
	dst   io.Writer
	spool *os.File // nil when writing to dst directly
	rw    *npy.RowWriter
}

func newNPYWriter(dst io.Writer, seekable bool, dim int) (*npyWriter, error) {
	w := &npyWriter{dst: dst}
	target := dst
	if !seekable {
		f, err := os.CreateTemp("", "minilm-*.npy")
		if err != nil {
			return nil, fmt.Errorf("creating a spool file for .npy output: %w", err)
		}
		w.spool, target = f, f
	}
	rw, err := npy.NewRowWriter(target.(io.WriteSeeker), dim)
	if err != nil {
		w.discard()
		return nil, err
	}
	w.rw = rw
	return w, nil
}

func (n *npyWriter) write(_ int, _ json.RawMessage, emb embed.Embedding) error {
	if emb.Float32 == nil {
		return errors.New(".npy output holds float32 embeddings only: use JSONL for quantized ones")
	}
	return n.rw.WriteRow(emb.Float32)
}

func (n *npyWriter) close() error {
	if err := n.rw.Close(); err != nil {
		n.discard()
		return err
	}
	if n.spool == nil {
		return nil
	}
	defer n.discard()
	if _, err := n.spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading the spool file: %w", err)
	}
	if _, err := io.Copy(n.dst, n.spool); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// discard removes the spool file, if any.
func (n *npyWriter) discard() {
	if n.spool != nil {
		n.spool.Close()
		os.Remove(n.spool.Name())
		n.spool = nil
	}
}

// destination is where a command writes its output, opened before any work starts so that
// a bad path fails at once.
//
// A regular file (or a new path) is written through a temporary file beside it, renamed
// over it only once the output is complete, so a failed or interrupted run never leaves a
// truncated file (nor its temporary file). Anything else that exists, a device such as
// /dev/null or /dev/stdout, or a FIFO, is written directly: replacing it would be wrong.
// Errors name the path as the user gave it.
type destination struct {
	name     string   // as given; "" for standard output
	f        *os.File // the file written, nil for standard output
	w        io.Writer
	tmp      string // the temporary file to rename over name, if any
	seekable bool
}

// openDestination opens name ("" or "-" for stdout) for writing. It refuses a directory and
// the input file itself (inputName, "" when reading standard input).
func openDestination(name, inputName string, stdout io.Writer) (*destination, error) {
	if name == "" || name == "-" {
		return &destination{w: stdout, seekable: isSeekable(stdout)}, nil
	}
	fi, err := os.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("output %s is a directory", name)
	case err == nil && inputName != "":
		if in, err := os.Stat(inputName); err == nil && os.SameFile(fi, in) {
			return nil, fmt.Errorf("output %s is the input file: refusing to overwrite it", name)
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("output %s: %w", name, unwrapPath(err))
	}
	if err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("opening output %s: %w", name, unwrapPath(err))
		}
		return &destination{name: name, f: f, w: f}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("cannot create output %s: %w", name, unwrapPath(err))
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("cannot create output %s: %w", name, unwrapPath(err))
	}
	return &destination{name: name, f: f, w: f, tmp: f.Name(), seekable: true}, nil
}

// commit completes the output: closes the file and renames the temporary file over name.
func (d *destination) commit() error {
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	if err != nil {
		d.removeTmp()
		return fmt.Errorf("writing %s: %w", d.name, unwrapPath(err))
	}
	if d.tmp != "" {
		if err := os.Rename(d.tmp, d.name); err != nil {
			d.removeTmp()
			return fmt.Errorf("writing %s: %w", d.name, unwrapPath(err))
		}
		d.tmp = ""
	}
	return nil
}

// abort gives up: the temporary file is removed and name is left as it was. It is a no-op
// after commit.
func (d *destination) abort() {
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
	d.removeTmp()
}

func (d *destination) removeTmp() {
	if d.tmp != "" {
		os.Remove(d.tmp)
		d.tmp = ""
	}
}

// isSeekable reports whether w is a file that can be rewound and is at its start (a regular
// file, as when standard output is redirected to one with >).
func isSeekable(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	off, err := f.Seek(0, io.SeekCurrent)
	return err == nil && off == 0
}

// unwrapPath drops the *PathError wrapper, whose path may be a temporary file's, keeping the
// reason ("permission denied").
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
