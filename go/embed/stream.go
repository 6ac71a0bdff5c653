package embed

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// TextSource yields the texts of a stream. Next returns the next text, or io.EOF after the
// last one; any other error ends the stream with that error.
//
// Stream tokenizes each text before it calls Next again and keeps nothing of it but its token
// ids, so a source may return strings that alias a buffer it reuses (a reader of huge lines
// need not allocate each one).
type TextSource interface {
	Next() (string, error)
}

// SliceSource is a TextSource over texts held in memory.
func SliceSource(texts []string) TextSource { return &sliceSource{texts: texts} }

type sliceSource struct {
	texts []string
	i     int
}

func (s *sliceSource) Next() (string, error) {
	if s.i == len(s.texts) {
		return "", io.EOF
	}
	s.i++
	return s.texts[s.i-1], nil
}

// Stream embeds the texts of src, calling emit(i, embedding) for each in input order (i counts
// from 0), and returns nil after the last one, or the first error of src, the encoder or emit.
// The embeddings equal Encode's on the same texts with the same options.
//
// Memory stays bounded whatever the number of texts: Stream tokenizes each text as it is
// read and keeps only its token ids (at most the token limit), for a window of texts that it
// plans into batches together (16 batches' worth, at least 256 texts), and reads the next
// window while the current one runs. Long texts cost only their first tokens: the tokenizer
// stops reading a text at the limit. emit runs on the calling goroutine, one call at a time;
// an embedding's slices belong to the callee.
//
// Stream returns ctx.Err() promptly once ctx is done, also while src.Next is blocked: the
// goroutine that reads src then ends when Next returns, and reads nothing more. Int8 and
// Uint8 output precisions need CalibrationRanges here. Progress, if set, reports (done, -1)
// after each batch.
func (e *Embedder) Stream(ctx context.Context, src TextSource, emit func(i int, emb Embedding) error, opts ...CallOption) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	c, err := e.callConfig(opts)
	if err != nil {
		return err
	}
	q, err := newQuantizer(&c, nil)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The reader fills windows of token ids; one waits in the channel while another runs.
	windows := make(chan window, 1)
	go e.readWindows(ctx, src, &c, windows)

	prog := newProgress(c.progress, -1)
	for {
		var w window
		select {
		case <-ctx.Done():
			return ctx.Err()
		case w = <-windows:
		}
		if w.err != nil && !errors.Is(w.err, io.EOF) {
			return w.err
		}
		if len(w.toks) > 0 {
			vecs, err := e.compute(ctx, w.toks, w.first, &c, prog)
			if err != nil {
				return err
			}
			for k, v := range vecs {
				var out Embedding
				out.Tokens = len(w.toks[k].ids)
				out.Truncated = w.toks[k].truncated
				if err := q.apply(&out, v); err != nil {
					return fmt.Errorf("embed: text %d: %w", w.first+k, err)
				}
				if err := emit(w.first+k, out); err != nil {
					return err
				}
			}
		}
		if w.err != nil { // io.EOF: that was the last window
			return nil
		}
	}
}

// window is a run of consecutive texts of a stream, tokenized. err is set on the last
// window: io.EOF at the end of the source, or the error that ended reading.
type window struct {
	first int
	toks  []tokenized
	err   error
}

// readWindows reads src into windows of c.window texts and sends them until the source ends
// or ctx is done.
func (e *Embedder) readWindows(ctx context.Context, src TextSource, c *callConfig, out chan<- window) {
	next := 0
	for {
		w := window{first: next, toks: make([]tokenized, 0, c.window)}
		for len(w.toks) < c.window {
			text, err := src.Next()
			if err == nil && ctx.Err() != nil {
				err = ctx.Err()
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					err = fmt.Errorf("embed: reading text %d: %w", next, err)
				}
				w.err = err
				break
			}
			t, err := e.tokenizeOne(text, c.maxSeq)
			if err != nil {
				w.err = fmt.Errorf("embed: tokenizing text %d: %w", next, err)
				break
			}
			w.toks = append(w.toks, t)
			next++
		}
		select {
		case out <- w:
		case <-ctx.Done():
			return
		}
		if w.err != nil {
			return
		}
	}
}
