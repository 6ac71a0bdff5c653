package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/npy"
)

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command with the given stdin and environment variables.
func runCLI(t *testing.T, ctx context.Context, stdin string, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return vars[k] },
	}
	code := run(ctx, args, e)
	return result{code, out.String(), errb.String()}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdinTTY bool
		code     int
		stderr   string
	}{
		{"no command", nil, false, exitUsage, "Usage:"},
		{"unknown command", []string{"frobnicate"}, false, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"embed", "--frob"}, false, exitUsage, "flag provided but not defined: -frob"},
		{"embed without input on a terminal", []string{"embed"}, true, exitUsage, "no input"},
		{"two input files", []string{"embed", "a", "b"}, false, exitUsage, "one input file at most"},
		{"bad format", []string{"embed", "--format", "xml", "-"}, false, exitUsage, `--format "xml"`},
		{"bad output format", []string{"embed", "--output-format", "csv", "-"}, false, exitUsage, `--output-format "csv"`},
		{"bad backend", []string{"embed", "--backend", "gpu", "-"}, false, exitUsage, `unknown backend "gpu"`},
		{"bad precision", []string{"serve", "--precision", "int4"}, false, exitUsage, `--precision: unknown precision "int4"`},
		{"precision with coreml", []string{"embed", "--backend", "coreml", "--precision", "bf16", "-"}, false, exitUsage, "--precision bf16 is a CPU-backend option"},
		{"bad batch size", []string{"embed", "--batch-size", "0", "-"}, false, exitUsage, "--batch-size 0"},
		{"bad max seq", []string{"similarity", "--max-seq-length", "1000", "a"}, false, exitUsage, "--max-seq-length 1000"},
		{"texts and file", []string{"similarity", "--file", "x", "a"}, false, exitUsage, "not both"},
		{"missing file", []string{"embed", "/nonexistent/texts.txt"}, false, exitError, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
				getenv: func(string) string { return "" }, stdinTTY: tt.stdinTTY}
			code := run(context.Background(), tt.args, e)
			require.Equal(t, tt.code, code, "stderr: %s", errb.String())
			require.Contains(t, errb.String(), tt.stderr)
			require.Empty(t, out.String())
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := runCLI(t, context.Background(), "", nil, args...)
		require.Equal(t, exitOK, r.code)
		require.Contains(t, r.stdout, "minilm similarity")
	}
	r := runCLI(t, context.Background(), "", nil, "help", "embed")
	require.Equal(t, exitOK, r.code)
	require.Contains(t, r.stdout, "Examples:")
	require.Contains(t, r.stdout, "-max-seq-length")
	r = runCLI(t, context.Background(), "", nil, "embed", "-h")
	require.Equal(t, exitOK, r.code)
	require.Contains(t, r.stderr, "Usage: minilm embed")
	r = runCLI(t, context.Background(), "", nil, "version")
	require.Equal(t, exitOK, r.code)
	require.Contains(t, r.stdout, "minilm ")
}

// underBazel reports whether the test binary runs from a Bazel runfiles tree, which holds
// //models:minilm_weights beside the binary: there the model is always found.
func underBazel() bool { return os.Getenv("TEST_SRCDIR") != "" }

func TestNoModel(t *testing.T) {
	if underBazel() {
		t.Skip("the runfiles of this test binary hold the model; covered by `go test`")
	}
	t.Setenv("MINILM_MODEL_DIR", "") // embed.New reads the process environment too
	dir := t.TempDir()
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(dir)) // no bazel-bin here
	defer os.Chdir(wd)
	r := runCLI(t, context.Background(), "hello\n", nil, "embed")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "bazel build //models:minilm_weights")
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		pos     []string
		field   string
		verbose bool
	}{
		{[]string{"a", "--field", "x", "b"}, []string{"a", "b"}, "x", false},
		{[]string{"--v", "a"}, []string{"a"}, "", true},
		{[]string{"a", "--", "-b", "--field", "y"}, []string{"a", "-b", "--field", "y"}, "", false},
		{nil, nil, "", false},
	}
	for _, tt := range tests {
		var field string
		var verbose bool
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.StringVar(&field, "field", "", "")
		fs.BoolVar(&verbose, "v", false, "")
		pos, err := parseInterspersed(fs, tt.args)
		require.NoError(t, err)
		require.Equal(t, tt.pos, pos, "args %q", tt.args)
		require.Equal(t, tt.field, field)
		require.Equal(t, tt.verbose, verbose)
	}
}

func TestReadInput(t *testing.T) {
	lines, err := readLines(strings.NewReader("a\n\nb c\r\nlast"), "x")
	require.NoError(t, err)
	require.Equal(t, []input{{text: "a"}, {text: ""}, {text: "b c"}, {text: "last"}}, lines)

	lines, err = readLines(strings.NewReader(""), "x")
	require.NoError(t, err)
	require.Empty(t, lines)

	recs, err := readJSONL(strings.NewReader(`{"id": 7, "body": "x"}`+"\n\n"+`{"body": "y\ny", "id": {"k": "v"}}`+"\n"+`{"body":"z"}`), "x", "body", "id")
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, "x", recs[0].text)
	require.JSONEq(t, `7`, string(recs[0].id))
	require.Equal(t, "y\ny", recs[1].text)
	require.JSONEq(t, `{"k":"v"}`, string(recs[1].id))
	require.Nil(t, recs[2].id)

	for in, want := range map[string]string{
		`[1, 2]`:                  "line 1: not a JSON object",
		`{"text": 1}`:             `field "text" is not a string`,
		`{"body": "x"}`:           `no "text" field`,
		"{\"text\":\"a\"}\n{oops": "line 2",
	} {
		_, err := readJSONL(strings.NewReader(in), "in.jsonl", "text", "id")
		require.ErrorContains(t, err, want, "input %q", in)
		require.ErrorContains(t, err, "in.jsonl")
	}
}

func TestFindModelDir(t *testing.T) {
	rf := t.TempDir()
	model := filepath.Join(rf, "minilm_coreml", "models", "minilm_weights")
	require.NoError(t, os.MkdirAll(model, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(model, "config.json"), []byte("{}"), 0o644))
	vars := map[string]string{}
	getenv := func(k string) string { return vars[k] }

	require.Equal(t, "flag", findModelDir("flag", getenv))
	vars["RUNFILES_DIR"] = rf
	require.Equal(t, model, findModelDir("", getenv))
	vars["MINILM_MODEL_DIR"] = "env"
	require.Equal(t, "env", findModelDir("", getenv))
	require.Equal(t, "flag", findModelDir("flag", getenv))
	if underBazel() {
		return // the test binary's own runfiles hold the model: "nothing found" cannot happen
	}
	delete(vars, "MINILM_MODEL_DIR")
	vars["RUNFILES_DIR"] = t.TempDir() // empty runfiles: nothing found
	wd, _ := os.Getwd()
	require.NoError(t, os.Chdir(t.TempDir()))
	defer os.Chdir(wd)
	require.Equal(t, "", findModelDir("", getenv))
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	p := &progress{w: &b, total: 200, now: func() time.Time { return now }}
	p.start = now
	p.update(0)
	now = now.Add(2 * time.Second)
	p.update(100)
	p.finish()
	out := b.String()
	require.Contains(t, out, "\rembedding [")
	require.Contains(t, out, "100/200 texts  50/s  ETA 2s")
	require.True(t, strings.HasSuffix(out, "\n"))
}

func TestShorten(t *testing.T) {
	require.Equal(t, `"a b"`, shorten("  a \n b ", 10))
	require.Equal(t, `"abcd…"`, shorten("abcdefgh", 5))
	require.Equal(t, `"naïve"`, shorten("naïve", 10))
}

// --- With the model -----------------------------------------------------------------------

func modelVars(t *testing.T) map[string]string {
	return map[string]string{"MINILM_MODEL_DIR": testmodel.ModelDir(t)}
}

func parseJSONL(t *testing.T, s string) []map[string]json.RawMessage {
	t.Helper()
	var out []map[string]json.RawMessage
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %q", line)
		out = append(out, m)
	}
	return out
}

func vector(t *testing.T, raw json.RawMessage) []float32 {
	t.Helper()
	var v []float32
	require.NoError(t, json.Unmarshal(raw, &v))
	require.Len(t, v, 384)
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	require.InDelta(t, 1, n, 1e-5)
	return v
}

func TestEmbedEndToEnd(t *testing.T) {
	vars := modelVars(t)
	ctx := context.Background()
	texts := "A man is eating food.\n\nA man is eating a piece of bread.\r\nnaïve café 🙂\n"

	// Lines from stdin to JSONL on stdout.
	r := runCLI(t, ctx, texts, vars, "embed", "--batch-size", "2")
	require.Equal(t, exitOK, r.code, r.stderr)
	rows := parseJSONL(t, r.stdout)
	require.Len(t, rows, 4)
	jsonVecs := make([][]float32, len(rows))
	for i, row := range rows {
		require.Equal(t, strconv.Itoa(i), string(row["index"]))
		require.NotContains(t, row, "id")
		jsonVecs[i] = vector(t, row["embedding"])
	}

	// The same texts from a file to .npy (format from the extension): the same vectors.
	dir := t.TempDir()
	in := filepath.Join(dir, "texts.txt")
	require.NoError(t, os.WriteFile(in, []byte(texts), 0o644))
	out := filepath.Join(dir, "out.npy")
	r = runCLI(t, ctx, "", vars, "embed", in, "--output", out)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Empty(t, r.stdout)
	shape, data, err := npy.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, []int{4, 384}, shape)
	for i := range jsonVecs {
		for c := range jsonVecs[i] {
			// JSONL holds the shortest float32 text, which reads back exactly.
			require.Equal(t, jsonVecs[i][c], data[i*384+c])
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary files left behind")

	// JSONL input keeps ids; its format is detected from the extension.
	jl := filepath.Join(dir, "docs.jsonl")
	require.NoError(t, os.WriteFile(jl, []byte(`{"id":"doc-1","body":"A man is eating food."}`+"\n"+`{"body":""}`+"\n"), 0o644))
	r = runCLI(t, ctx, "", vars, "embed", "--field", "body", jl)
	require.Equal(t, exitOK, r.code, r.stderr)
	rows = parseJSONL(t, r.stdout)
	require.Len(t, rows, 2)
	require.JSONEq(t, `"doc-1"`, string(rows[0]["id"]))
	require.Equal(t, jsonVecs[0], vector(t, rows[0]["embedding"]))
	require.Equal(t, jsonVecs[1], vector(t, rows[1]["embedding"]), "empty text")

	// Empty input: an empty output, also as .npy.
	r = runCLI(t, ctx, "", vars, "embed", "-")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Empty(t, r.stdout)
	r = runCLI(t, ctx, "", vars, "embed", "--output-format", "npy")
	require.Equal(t, exitOK, r.code, r.stderr)
	shape, _, err = npy.Read(strings.NewReader(r.stdout))
	require.NoError(t, err)
	require.Equal(t, []int{0, 384}, shape)
}

func TestEmbedInterrupted(t *testing.T) {
	vars := modelVars(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out.npy")
	r := runCLI(t, ctx, "a\nb\n", vars, "embed", "-o", out)
	require.Equal(t, exitInterrupt, r.code, r.stderr)
	require.Contains(t, r.stderr, "interrupted")
	_, err := os.Stat(out)
	require.True(t, os.IsNotExist(err), "no partial output file")
}

func TestSimilarityEndToEnd(t *testing.T) {
	vars := modelVars(t)
	ctx := context.Background()

	r := runCLI(t, ctx, "", vars, "similarity")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stderr, "built-in examples")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	n := len(exampleTexts)
	require.Len(t, lines, n+1+1+n, r.stdout) // legend, blank, header, rows
	matrix := lines[n+2:]
	for i, row := range matrix {
		f := strings.Fields(row)
		require.Len(t, f, n+1, row)
		require.Equal(t, "1.000", f[i+1], "diagonal")
		require.Equal(t, len(matrix[0]), len(row), "aligned rows")
	}
	// The paraphrase pair is far more similar than food vs violin.
	f := strings.Fields(matrix[0])
	require.Greater(t, parse(t, f[2]), 0.6)
	require.Less(t, parse(t, f[5]), 0.2)

	r = runCLI(t, ctx, "The cat sits on the mat.\n\nA cat is sitting on a rug.\n", vars, "similarity", "--file", "-")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, `"A cat is sitting on a rug."`)
	require.Equal(t, 2+1+1+2, len(strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")))

	r = runCLI(t, ctx, "", vars, "similarity", "one", "--backend", "cpu", "two")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, `"two"`)
}

func parse(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	require.False(t, math.IsNaN(v))
	return v
}
