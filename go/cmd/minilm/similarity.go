package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/minilm-coreml/minilm/go/embed"
)

// exampleTexts are compared when similarity gets no texts: two pairs of close paraphrases
// and two unrelated sentences, so the matrix shows what the model captures.
var exampleTexts = []string{
	"A man is eating food.",
	"A man is eating a piece of bread.",
	"A man is riding a horse.",
	"A man is riding a white horse on an enclosed ground.",
	"A woman is playing violin.",
	"A monkey is playing drums.",
}

// maxSimilarityTexts bounds the matrix so that it stays readable.
const maxSimilarityTexts = 50

const similarityUsage = `Usage: minilm similarity [flags] [TEXT...]

Prints the cosine similarity of every pair of texts as an aligned matrix (1 = same meaning
direction, around 0 = unrelated). Texts come from the arguments, or one per line from
--file (or "-" for standard input); with neither, a built-in example set is used.

Examples:
  minilm similarity
  minilm similarity "The cat sits on the mat." "A cat is sitting on a rug." "Stocks fell sharply."
  minilm similarity --file questions.txt

Flags:
`

type similarityOptions struct {
	model modelFlags
	file  string
	width int
}

func similarityFlags(e env) (*flag.FlagSet, *similarityOptions) {
	o := &similarityOptions{}
	fs := flag.NewFlagSet("similarity", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&o.file, "file", "", "read texts one per line from this file (\"-\": standard input)")
	fs.IntVar(&o.width, "width", 60, "longest text shown in the legend, in characters")
	o.model.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), similarityUsage)
		printFlags(fs)
	}
	return fs, o
}

func runSimilarity(ctx context.Context, args []string, e env) error {
	fs, o := similarityFlags(e)
	texts, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if o.width < 10 {
		return usageError{msg: fmt.Sprintf("similarity: --width %d: need at least 10 characters", o.width)}
	}
	if err := o.model.validate(); err != nil {
		return err
	}
	if o.file != "" {
		if len(texts) > 0 {
			return usageError{msg: "similarity: give texts as arguments or with --file, not both"}
		}
		var r io.Reader = e.stdin
		name := "standard input"
		if o.file != "-" {
			f, err := os.Open(o.file)
			if err != nil {
				return err
			}
			defer f.Close()
			r, name = f, o.file
		}
		lines, err := readLines(r, name)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if strings.TrimSpace(l.text) != "" { // blank lines carry no text to compare
				texts = append(texts, l.text)
			}
		}
		if len(texts) == 0 {
			return fmt.Errorf("similarity: %s holds no texts", name)
		}
	}
	if len(texts) == 0 {
		texts = exampleTexts
		fmt.Fprintln(e.stderr, "minilm: no texts given, comparing the built-in examples (see minilm help similarity)")
	}
	if len(texts) > maxSimilarityTexts {
		return usageError{msg: fmt.Sprintf("similarity: %d texts; the matrix shows at most %d (use minilm embed for more)", len(texts), maxSimilarityTexts)}
	}

	emb, err := o.model.open(e)
	if err != nil {
		return err
	}
	defer emb.Close()
	vecs, err := emb.Embed(ctx, texts)
	if err != nil {
		return err
	}
	return printMatrix(e.stdout, texts, vecs, o.width)
}

// printMatrix writes a numbered legend of the texts and the aligned similarity matrix.
func printMatrix(w io.Writer, texts []string, vecs [][]float32, width int) error {
	for i, t := range texts {
		fmt.Fprintf(w, "%*d  %s\n", digits(len(texts)), i+1, shorten(t, width))
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for j := range texts {
		fmt.Fprintf(tw, "%d\t", j+1)
	}
	fmt.Fprintln(tw)
	for i := range texts {
		fmt.Fprintf(tw, "%d\t", i+1)
		for j := range texts {
			fmt.Fprintf(tw, "%.3f\t", embed.Cosine(vecs[i], vecs[j]))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

func digits(n int) int { return len(fmt.Sprint(n)) }

// shorten quotes t and cuts it to about width characters, marking the cut with "…".
func shorten(t string, width int) string {
	t = strings.Join(strings.Fields(t), " ")
	if width > 1 && utf8.RuneCountInString(t) > width {
		r := []rune(t)
		t = string(r[:width-1]) + "…"
	}
	return fmt.Sprintf("%q", t)
}
