// Command mlgate is the quality gate of a converted Core ML package: it runs the
// .mlpackage's ML Program on the CPU (go/mil) through the same embedding pipeline as every
// backend (tokenizer → planner → encoder → mean pooling → L2), and checks it against
// sentence-transformers' reference vectors of the fixture corpus and against the STS
// Benchmark.
//
//	mlgate --package X.mlpackage --model-dir MODEL --fixtures testdata/fixtures \
//	       --stsb testdata/stsb/stsb-test.tsv [--fp16] [--quick] [--json out.json]
//
// MODEL holds tokenizer.json (and model.safetensors for the float32 reference run).
// Both interfaces of the converter are gated (mil.Backend tells them apart): the default
// single-input model (input_ids alone, mask derived inside) and the two-input model.
//
// What is measured:
//   - cosine between the package's embedding and the reference vector of each corpus
//     text (testdata/fixtures/embeddings.npy, max_seq_length 256): mean and minimum;
//   - STS-B test cosine Spearman against the gold scores, and ΔSpearman against the float32
//     reference computed in the same run by the CPU backend from model.safetensors on the
//     same pairs (--reference cpu, the default; it equals the published 0.8203 to ±0.0005 on
//     the full set), or against the published 0.8203 (--reference published, full set only);
//   - NaN/Inf among the hidden-state values of real tokens: any is a failure.
//
// --fp16 rounds every float intermediate to float16 as a float16 engine would, which is
// how overflow (e.g. a finfo(float32).min attention mask) shows up as NaN.
//
// Thresholds (see thresholds.go and README.md for the measurements behind them) depend on
// the variant's compression class, derived from the compression the converter recorded in
// the package metadata (minilm.compression: weights and activations), or --class. The command exits 1 when the variant fails, 2 on usage or run errors.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minilm-coreml/minilm/go/backend/coreml"
	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/internal/kernels"
	"github.com/minilm-coreml/minilm/go/mil"
	"github.com/minilm-coreml/minilm/go/mlpackage"
)

type config struct {
	pkg, modelDir, fixtures, stsb, jsonOut, reference, class string
	fp16, quick                                              bool
	threads, maxSeq                                          int
	// limitTexts and limitPairs cut the data further (tests).
	limitTexts, limitPairs int
}

// Result is the JSON record of one gate run.
type Result struct {
	Package       string     `json:"package"`
	Variant       string     `json:"variant"`
	Inputs        []string   `json:"inputs"`               // input_ids alone (single-input model) or with attention_mask
	MinimumOS     string     `json:"minimum_os,omitempty"` // the package's minilm.minimum_os metadata
	Class         string     `json:"class"`
	Mode          string     `json:"mode"`
	Quick         bool       `json:"quick"`
	WeightBytes   int64      `json:"weight_bin_bytes"`
	LoadSeconds   float64    `json:"load_seconds"`
	Scores        *Scores    `json:"scores"`
	Reference     string     `json:"reference"`
	RefSpearman   Float      `json:"reference_spearman"`
	RefScores     *Scores    `json:"reference_scores,omitempty"`
	DeltaSpearman Float      `json:"delta_spearman"`
	Thresholds    Thresholds `json:"thresholds"`
	Pass          bool       `json:"pass"`
	Failures      []string   `json:"failures"`
	TotalSeconds  float64    `json:"total_seconds"`
	Threads       int        `json:"threads"`
	ExecutorISA   string     `json:"executor_isa"`
}

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the command; it returns the exit code.
func Main(argv []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mlgate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.pkg, "package", "", "the .mlpackage to gate (required)")
	fs.StringVar(&c.modelDir, "model-dir", "", "all-MiniLM-L6-v2 directory: tokenizer.json, and model.safetensors for --reference cpu (required)")
	fs.StringVar(&c.fixtures, "fixtures", "testdata/fixtures", "directory with corpus.jsonl and embeddings.npy")
	fs.StringVar(&c.stsb, "stsb", "testdata/stsb/stsb-test.tsv", "STS Benchmark test split (score, sentence1, sentence2)")
	fs.BoolVar(&c.fp16, "fp16", false, "round every float intermediate to float16 (device-like overflow)")
	fs.BoolVar(&c.quick, "quick", false, fmt.Sprintf("use %d corpus texts and %d STS-B pairs", quickTexts, quickPairs))
	fs.StringVar(&c.jsonOut, "json", "", "write the result as JSON to this file")
	fs.StringVar(&c.reference, "reference", "cpu", "float32 STS-B reference: cpu (same pairs, CPU backend), published (0.8203, full set) or none (no Spearman-drop check)")
	fs.StringVar(&c.class, "class", "", "threshold class (fp16, int8, 4bit); default: derived from the compression the package metadata records (minilm.compression)")
	fs.IntVar(&c.threads, "threads", runtime.GOMAXPROCS(0), "compute threads")
	fs.IntVar(&c.maxSeq, "max-seq", 256, "max_seq_length (the fixtures were made with 256)")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	if c.pkg == "" || c.modelDir == "" {
		fmt.Fprintln(stderr, "mlgate: --package and --model-dir are required")
		fs.Usage()
		return 2
	}
	res, err := Run(context.Background(), c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "mlgate:", err)
		return 2
	}
	PrintTable(stdout, []*Result{res})
	if c.jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err == nil {
			err = os.WriteFile(c.jsonOut, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "mlgate:", err)
			return 2
		}
	}
	if !res.Pass {
		fmt.Fprintf(stdout, "FAIL: %s\n", strings.Join(res.Failures, "; "))
		return 1
	}
	fmt.Fprintln(stdout, "PASS")
	return 0
}

// Run gates one package.
func Run(ctx context.Context, c config, log io.Writer) (*Result, error) {
	start := time.Now()
	pkg, err := mlpackage.Open(c.pkg)
	if err != nil {
		return nil, err
	}
	return RunPackage(ctx, c, pkg, log, start)
}

// RunPackage gates an opened (possibly modified in memory) package.
func RunPackage(ctx context.Context, c config, pkg *mlpackage.Package, log io.Writer, start time.Time) (*Result, error) {
	if c.reference != "cpu" && c.reference != "published" && c.reference != "none" {
		return nil, fmt.Errorf("--reference %q: want cpu, published or none", c.reference)
	}
	d, err := LoadData(c.fixtures, c.stsb, c.quick)
	if err != nil {
		return nil, err
	}
	if c.limitTexts > 0 && c.limitTexts < len(d.Texts) {
		d.Texts, d.Ref = d.Texts[:c.limitTexts], d.Ref[:c.limitTexts]
	}
	if c.limitPairs > 0 && c.limitPairs < len(d.Gold) {
		d.Gold, d.S1, d.S2 = d.Gold[:c.limitPairs], d.S1[:c.limitPairs], d.S2[:c.limitPairs]
	}
	res := &Result{Package: c.pkg, Quick: c.quick, Mode: "fp32", WeightBytes: pkg.WeightBytes(), Threads: c.threads, Reference: c.reference}
	if c.fp16 {
		res.Mode = "fp16"
	}
	res.Variant = variantName(pkg)
	for _, f := range pkg.Model.Description.Inputs {
		res.Inputs = append(res.Inputs, f.Name)
	}
	res.MinimumOS = pkg.Model.Description.Metadata.UserDefined[coreml.MinimumOSKey]
	res.Class = c.class
	if res.Class == "" {
		if res.Class, err = classOfMetadata(pkg.Model.Description.Metadata.UserDefined); err != nil {
			return nil, err
		}
	}
	th, ok := thresholdsFor(res.Class, c.fp16)
	if !ok {
		return nil, fmt.Errorf("unknown threshold class %q", res.Class)
	}
	res.Thresholds = th
	k := kernels.NewKernels(c.threads)
	defer k.Close()
	res.ExecutorISA = k.ISA()
	t0 := time.Now()
	be, err := mil.NewBackendFromPackage(pkg, mil.WithFP16(c.fp16), mil.WithKernels(k))
	if err != nil {
		return nil, err
	}
	res.LoadSeconds = time.Since(t0).Seconds()
	fmt.Fprintf(log, "mlgate: %s (%s, %s, inputs %v): loaded in %.1fs; %d texts, %d STS-B pairs\n", res.Variant, res.Class, res.Mode, res.Inputs, res.LoadSeconds, len(d.Texts), len(d.Gold))
	res.Scores, err = Evaluate(ctx, be, c.modelDir, d, c.maxSeq)
	if err != nil {
		return nil, err
	}
	switch c.reference {
	case "cpu":
		ref, err := cpu.New(c.modelDir, cpu.WithThreads(c.threads))
		if err != nil {
			return nil, fmt.Errorf("float32 reference: %w", err)
		}
		ds := *d
		ds.Texts, ds.Ref = nil, nil // only STS-B is needed from the reference
		res.RefScores, err = Evaluate(ctx, ref, c.modelDir, &ds, c.maxSeq)
		if err != nil {
			return nil, fmt.Errorf("float32 reference: %w", err)
		}
		res.RefSpearman = res.RefScores.Spearman
	case "published":
		if c.quick {
			return nil, fmt.Errorf("--reference published applies to the full STS-B set only, not --quick")
		}
		res.RefSpearman = Float(PublishedSTSB)
	case "none":
		res.RefSpearman = res.Scores.Spearman // no Spearman-drop check
	}
	res.DeltaSpearman = res.Scores.Spearman - res.RefSpearman
	res.Failures = th.check(res)
	res.Pass = len(res.Failures) == 0
	res.TotalSeconds = time.Since(start).Seconds()
	return res, nil
}

func variantName(pkg *mlpackage.Package) string {
	if v := pkg.Model.Description.Metadata.UserDefined["minilm.variant"]; v != "" {
		return v
	}
	return strings.TrimSuffix(filepath.Base(filepath.Clean(pkg.Dir)), ".mlpackage")
}

// PrintTable prints the comparison table a user reads before choosing a variant.
func PrintTable(w io.Writer, rs []*Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tmode\tweight.bin\tmean cos\tmin cos\tSTS-B ρ\tΔρ vs fp32\tNaN/Inf\tverdict\t")
	for _, r := range rs {
		s := r.Scores
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f MB\t%.6f\t%.6f\t%.4f\t%+.4f\t%d\t%s\t\n", r.Variant, r.Mode, float64(r.WeightBytes)/1e6,
			s.MeanCos, s.MinCos, s.Spearman, r.DeltaSpearman, s.NonFinite, verdict)
	}
	tw.Flush()
}
