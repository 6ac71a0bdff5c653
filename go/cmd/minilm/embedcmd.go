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

	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/npy"
	"github.com/minilm-coreml/minilm/go/quantize"
)

type embedOptions struct {
	model        modelFlags
	format       string
	field        string
	idField      string
	output       string
	outputFormat string
	precision    string
	calibration  string
	noNormalize  bool
}

const embedUsage = `Usage: minilm embed [flags] [FILE]

Embeds each text of FILE (or standard input, or "-") and writes one 384-dimensional unit
vector per text, in input order. Input is read as a stream: any size embeds in bounded
memory, and output appears as it is computed.

Input: one text per line (--format lines), or JSON Lines (--format jsonl) with the text in
--field and an optional id in --id-field; FILE ending in .jsonl or .ndjson selects jsonl.
Output: JSON Lines {"index":i,"id":...,"embedding":[...]} ("id" when the input had one), or
a float32 [N,384] .npy file (--output ending in .npy, or --output-format npy). An output
file is complete or absent: it is written beside the destination and renamed into place
when done, so an error or interrupt leaves no partial file.

Examples:
  minilm embed texts.txt -o vectors.npy
  minilm embed docs.jsonl --field body -o docs.embeddings.jsonl
  cat texts.txt | minilm embed --backend cpu --max-seq-length 128 > vectors.jsonl
  minilm embed texts.txt --output-precision ubinary > bits.jsonl       # 48 bytes per text
  minilm embed texts.txt --output-precision int8 --calibration sample.npy

Flags:
`

func embedFlags(e env) (*flag.FlagSet, *embedOptions) {
	o := &embedOptions{}
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&o.format, "format", "", "input format: lines or jsonl (default from the file extension: .jsonl and .ndjson are jsonl, else lines)")
	fs.StringVar(&o.field, "field", "text", "JSONL field holding the text")
	fs.StringVar(&o.idField, "id-field", "id", "JSONL field copied to the output as \"id\" when present (\"\" to drop ids)")
	fs.StringVar(&o.output, "output", "", "output file (default standard output)")
	fs.StringVar(&o.output, "o", "", "shorthand for --output")
	fs.StringVar(&o.outputFormat, "output-format", "", "jsonl or npy (default from the --output extension, else jsonl)")
	fs.StringVar(&o.precision, "output-precision", "float32", "float32, or a quantized form as sentence-transformers gives it: int8, uint8 (need --calibration),\nbinary or ubinary (8 dimensions per byte); quantized forms are written as JSONL integers")
	fs.StringVar(&o.calibration, "calibration", "", "float32 [N,384] .npy of embeddings (e.g. from an earlier 'minilm embed -o sample.npy' of a corpus sample)\nwhose per-dimension ranges scale int8 and uint8 output")
	fs.BoolVar(&o.noNormalize, "no-normalize", false, "write the mean-pooled vectors without scaling them to unit length")
	o.model.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), embedUsage)
		printFlags(fs)
	}
	return fs, o
}

func runEmbed(ctx context.Context, args []string, e env) (err error) {
	fs, o := embedFlags(e)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
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

	// Every check that needs no input comes first: flags, the calibration file, the
	// destination, the model. Only then is input read.
	format := o.format
	if format == "" {
		format = "lines"
		switch strings.ToLower(filepath.Ext(name)) {
		case ".jsonl", ".ndjson":
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
	precision, err := quantize.ParsePrecision(o.precision)
	if err != nil {
		return usageError{msg: "embed: --output-precision: " + strings.TrimPrefix(err.Error(), "quantize: ")}
	}
	if precision != quantize.Float32 && outFormat == "npy" {
		return usageError{msg: fmt.Sprintf("embed: --output-precision %v: .npy output holds float32 only; use JSONL output", precision)}
	}
	if precision.Scalar() && o.calibration == "" {
		return usageError{msg: fmt.Sprintf("embed: --output-precision %v needs --calibration FILE.npy: embeddings of a sample of your corpus to take each dimension's range from", precision)}
	}
	if o.calibration != "" && !precision.Scalar() {
		return usageError{msg: "embed: --calibration is only used with --output-precision int8 or uint8"}
	}
	if err := o.model.validate(); err != nil {
		return err
	}
	callOpts := []embed.CallOption{embed.OutputPrecision(precision), embed.Normalize(!o.noNormalize)}
	if o.calibration != "" {
		r, err := readCalibration(o.calibration)
		if err != nil {
			return err
		}
		callOpts = append(callOpts, embed.CalibrationRanges(r))
	}

	in, inputName, closeIn, err := openInput(name, e)
	if err != nil {
		return err
	}
	defer closeIn()
	dst, err := openDestination(o.output, inputName, e.stdout)
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	defer dst.abort() // no-op after commit

	emb, err := o.model.open(e)
	if err != nil {
		return err
	}
	defer emb.Close()

	var vw vectorWriter
	if outFormat == "npy" {
		nw, err := newNPYWriter(dst.w, dst.seekable, emb.Dim())
		if err != nil {
			return err
		}
		defer nw.discard()
		vw = nw
	} else {
		vw = newJSONLWriter(dst.w)
	}
	var p *progress
	if e.stderrTTY {
		p = newProgress(e.stderr, -1)
		defer p.finish()
		callOpts = append(callOpts, embed.Progress(func(done, _ int) { p.update(done) }))
	}
	src := &textSource{r: newRecordReader(in, displayName(name), format == "jsonl", o.field, o.idField)}
	err = emb.Stream(ctx, src, func(i int, v embed.Embedding) error {
		return vw.write(i, src.popID(), v)
	}, callOpts...)
	if err != nil {
		return err
	}
	if err := vw.close(); err != nil {
		return err
	}
	return dst.commit()
}

// openInput opens the named input ("-" for standard input). inputName is the path for the
// same-file check, "" for standard input.
func openInput(name string, e env) (r io.Reader, inputName string, closeFn func(), err error) {
	if name == "-" {
		return e.stdin, "", func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, "", nil, fmt.Errorf("embed: input %s: %w", name, unwrapPath(err))
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, "", nil, fmt.Errorf("embed: input %s is a directory", name)
	}
	return f, name, func() { f.Close() }, nil
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// readCalibration reads a float32 [N,384] .npy file and returns its per-dimension ranges.
func readCalibration(path string) (quantize.Ranges, error) {
	shape, data, err := npy.ReadFile(path)
	if err != nil {
		return quantize.Ranges{}, fmt.Errorf("embed: --calibration %s: %w", path, err)
	}
	if len(shape) != 2 || shape[1] != embed.Dim || shape[0] == 0 {
		return quantize.Ranges{}, fmt.Errorf("embed: --calibration %s: shape %v, want [N,%d] with N > 0", path, shape, embed.Dim)
	}
	rows := make([][]float32, shape[0])
	for i := range rows {
		rows[i] = data[i*embed.Dim : (i+1)*embed.Dim]
	}
	r, err := quantize.Calibrate(rows)
	if err != nil {
		return quantize.Ranges{}, fmt.Errorf("embed: --calibration %s: %w", path, err)
	}
	return r, nil
}

func usageOf(fs *flag.FlagSet) string {
	var b bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&b)
	fs.Usage()
	fs.SetOutput(out)
	return b.String()
}
