package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

type embedOptions struct {
	model        modelFlags
	format       string
	field        string
	idField      string
	output       string
	outputFormat string
	chunk        int
}

const embedUsage = `Usage: minilm embed [flags] [FILE]

Embeds each text of FILE (or standard input, or "-") and writes one 384-float unit vector
per text, in input order.

Input: one text per line (--format lines), or JSON Lines (--format jsonl) with the text in
--field and an optional id in --id-field; FILE ending in .jsonl selects jsonl.
Output: JSON Lines {"index":i,"id":...,"embedding":[...]} ("id" when the input had one), or
a float32 [N,384] .npy file (--output ending in .npy, or --output-format npy).

Examples:
  minilm embed texts.txt -o vectors.npy
  minilm embed docs.jsonl --field body -o docs.embeddings.jsonl
  cat texts.txt | minilm embed --backend cpu --max-seq-length 128 > vectors.jsonl

Flags:
`

func embedFlags(e env) (*flag.FlagSet, *embedOptions) {
	o := &embedOptions{}
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&o.format, "format", "", "input format: lines or jsonl (default from the file extension, else lines)")
	fs.StringVar(&o.field, "field", "text", "JSONL field holding the text")
	fs.StringVar(&o.idField, "id-field", "id", "JSONL field copied to the output as \"id\" when present (\"\" to drop ids)")
	fs.StringVar(&o.output, "output", "", "output file (default standard output)")
	fs.StringVar(&o.output, "o", "", "shorthand for --output")
	fs.StringVar(&o.outputFormat, "output-format", "", "jsonl or npy (default from the --output extension, else jsonl)")
	fs.IntVar(&o.chunk, "chunk", 1024, "texts embedded per progress step; bounds the output buffered in memory")
	o.model.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), embedUsage)
		fs.PrintDefaults()
	}
	return fs, o
}

func runEmbed(ctx context.Context, args []string, e env) error {
	fs, o := embedFlags(e)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{msg: "embed: " + err.Error()}
	}
	if len(pos) > 1 {
		return usageError{msg: fmt.Sprintf("embed: one input file at most, got %d: %s", len(pos), strings.Join(pos, " ")), usage: usageOf(fs)}
	}
	name := "-"
	if len(pos) == 1 {
		name = pos[0]
	}
	if name == "-" && len(pos) == 0 && e.stdinTTY {
		return usageError{msg: "embed: no input: give a FILE or pipe texts to standard input", usage: usageOf(fs)}
	}

	format := o.format
	if format == "" {
		format = "lines"
		if strings.EqualFold(filepath.Ext(name), ".jsonl") {
			format = "jsonl"
		}
	}
	outFormat := o.outputFormat
	if outFormat == "" {
		outFormat = "jsonl"
		if strings.EqualFold(filepath.Ext(o.output), ".npy") {
			outFormat = "npy"
		}
	}
	if format != "lines" && format != "jsonl" {
		return usageError{msg: fmt.Sprintf("embed: --format %q: want lines or jsonl", format)}
	}
	if outFormat != "jsonl" && outFormat != "npy" {
		return usageError{msg: fmt.Sprintf("embed: --output-format %q: want jsonl or npy", outFormat)}
	}
	if outFormat == "npy" && (o.output == "" || o.output == "-") && e.stdoutTTY {
		return usageError{msg: "embed: not writing binary .npy to a terminal: use --output FILE.npy or redirect standard output"}
	}
	if o.chunk < 1 {
		return usageError{msg: fmt.Sprintf("embed: --chunk %d: need at least 1", o.chunk)}
	}

	inputs, err := readInput(name, format, o, e)
	if err != nil {
		return err
	}

	emb, err := o.model.open(e)
	if err != nil {
		return err
	}
	defer emb.Close()

	return writeOutput(o.output, e.stdout, func(w io.Writer) error {
		var vw vectorWriter
		if outFormat == "npy" {
			nw, err := newNPYWriter(w, len(inputs), emb.Dim())
			if err != nil {
				return err
			}
			vw = nw
		} else {
			vw = newJSONLWriter(w)
		}
		var p *progress
		if e.stderrTTY {
			p = newProgress(e.stderr, len(inputs))
			defer p.finish()
		}
		texts := make([]string, len(inputs))
		for i, in := range inputs {
			texts[i] = in.text
		}
		for first := 0; first < len(texts); first += o.chunk {
			end := first + o.chunk
			if end > len(texts) {
				end = len(texts)
			}
			vecs, err := emb.Embed(ctx, texts[first:end])
			if err != nil {
				return err
			}
			if err := vw.write(inputs, first, vecs); err != nil {
				return err
			}
			if p != nil {
				p.update(end)
			}
		}
		return vw.close()
	})
}

func readInput(name, format string, o *embedOptions, e env) ([]input, error) {
	var r io.Reader = e.stdin
	display := "standard input"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, display = f, name
	}
	if format == "jsonl" {
		return readJSONL(r, display, o.field, o.idField)
	}
	return readLines(r, display)
}

// writeOutput runs write on standard output, or on a temporary file renamed to name once
// write succeeds, so a failed or interrupted run never leaves a truncated output file.
func writeOutput(name string, stdout io.Writer, write func(io.Writer) error) error {
	if name == "" || name == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("creating output: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("creating output: %w", err)
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

func usageOf(fs *flag.FlagSet) string {
	var b bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&b)
	fs.Usage()
	fs.SetOutput(out)
	return b.String()
}
