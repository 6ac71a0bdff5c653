package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/npy"
)

// noRead is a standard input that fails the test if anything reads it: checks that must
// come before reading input use it.
type noRead struct{ t *testing.T }

func (n noRead) Read([]byte) (int, error) {
	n.t.Error("input was read before a check that needs no input")
	return 0, io.EOF
}

func runCLIWith(t *testing.T, stdin io.Reader, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdin: stdin, stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), args, e)
	return result{code, out.String(), errb.String()}
}

// TestChecksBeforeInput: bad flags, destinations and calibration files are reported before
// any input is read.
func TestChecksBeforeInput(t *testing.T) {
	vars := modelVars(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	require.NoError(t, os.WriteFile(in, []byte("a\nb\n"), 0o644))
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"batch size 0", []string{"embed", "--batch-size", "0"}, exitUsage, "--batch-size 0"},
		{"workers -1", []string{"embed", "--workers", "-1"}, exitUsage, "--workers -1"},
		{"max seq 1", []string{"embed", "--max-seq-length", "1"}, exitUsage, "--max-seq-length 1"},
		{"output is a directory", []string{"embed", "-o", dir}, exitError, "is a directory"},
		{"output in a missing directory", []string{"embed", "-o", filepath.Join(dir, "nope", "x.npy")}, exitError, "cannot create output " + filepath.Join(dir, "nope", "x.npy")},
		{"output is the input", []string{"embed", in, "-o", in}, exitError, "is the input file"},
		{"unknown precision", []string{"embed", "--output-precision", "float16"}, exitUsage, `unknown precision "float16"`},
		{"int8 without calibration", []string{"embed", "--output-precision", "int8"}, exitUsage, "needs --calibration"},
		{"quantized npy", []string{"embed", "--output-precision", "binary", "-o", filepath.Join(dir, "x.npy")}, exitUsage, ".npy output holds float32 only"},
		{"calibration without int8", []string{"embed", "--calibration", in}, exitUsage, "only used with"},
		{"calibration not npy", []string{"embed", "--output-precision", "uint8", "--calibration", in}, exitError, "--calibration " + in},
		{"missing input", []string{"embed", filepath.Join(dir, "missing.txt")}, exitError, "input " + filepath.Join(dir, "missing.txt") + ": no such file"},
		{"input is a directory", []string{"embed", dir}, exitError, "is a directory"},
		{"width -5", []string{"similarity", "--width", "-5", "a", "b"}, exitUsage, "--width -5"},
		{"batch size out of int range", []string{"embed", "--batch-size", "99999999999999999999"}, exitUsage, "invalid value"},
		{"max seq 513", []string{"embed", "--max-seq-length", "513"}, exitUsage, "--max-seq-length 513"},
		{"workers not a number", []string{"embed", "--workers", "two"}, exitUsage, "invalid value"},
		{"unknown flag", []string{"embed", "--frobnicate"}, exitUsage, "not defined"},
		{"single-dash unknown flag", []string{"embed", "-x"}, exitUsage, "not defined"},
		{"similarity batch size 0", []string{"similarity", "--batch-size", "0", "a"}, exitUsage, "--batch-size 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLIWith(t, noRead{t}, vars, tc.args...)
			require.Equal(t, tc.code, r.code, r.stderr)
			require.Contains(t, r.stderr, tc.msg)
			require.NotContains(t, r.stderr, ".tmp", "errors name the user's path, not the temporary file")
		})
	}
	// Nothing was created beside the input, and the input is intact.
	names := dirEntries(t, dir)
	require.Equal(t, []string{"in.txt"}, names)
	b, _ := os.ReadFile(in)
	require.Equal(t, "a\nb\n", string(b))
}

// TestInputEdges: JSONL records the CLI must refuse or accept, naming the line.
func TestInputEdges(t *testing.T) {
	vars := modelVars(t)
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	tests := []struct {
		name string
		file string
		code int
		msg  string
		rows int
	}{
		{"null text", write("null.jsonl", `{"text":"a"}`+"\n"+`{"text":null}`+"\n"), exitError, `line 2: field "text" is null`, 0},
		{"number text", write("num.jsonl", `{"text":5}`+"\n"), exitError, `line 1: field "text" is not a string`, 0},
		{"null record", write("nullrec.jsonl", "null\n"), exitError, "line 1: not a JSON object", 0},
		{"array record", write("arr.jsonl", "[1]\n"), exitError, "line 1: not a JSON object", 0},
		{"ndjson is jsonl", write("docs.ndjson", `{"text":"hello","id":3}`+"\n"), exitOK, "", 1},
		{"blank lines in jsonl", write("blank.jsonl", "\n"+`{"text":"x"}`+"\n\n"), exitOK, "", 1},
		{"empty file", write("empty.txt", ""), exitOK, "", 0},
		{"blank-only lines", write("blank.txt", "\n\n \n"), exitOK, "", 3},
		{"BOM and CRLF", write("bom.txt", "\ufeffhello\r\nworld\r\n"), exitOK, "", 2},
		{"NUL and invalid UTF-8", write("bin.txt", "a\x00b\n\xff\xfe\n"), exitOK, "", 2},
		{"10 MB line", write("long.txt", strings.Repeat("word ", 2<<20)+"\nshort\n"), exitOK, "", 2},
		{"line over 64 MiB", write("huge.txt", "a\n"+strings.Repeat("x", maxLine+1)+"\n"), exitError, "line 2: longer than 64 MiB", 0},
		{"malformed JSONL line", write("bad.jsonl", `{"text":"a"}`+"\n"+`{"text": "b"`+"\n"), exitError, "line 2: not a JSON object", 0},
		{"JSONL missing field", write("nofield.jsonl", `{"body":"a"}`+"\n"), exitError, `line 1: no "text" field`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.jsonl")
			r := runCLIWith(t, noRead{t}, vars, "embed", tc.file, "-o", out)
			require.Equal(t, tc.code, r.code, r.stderr)
			if tc.code != exitOK {
				require.Contains(t, r.stderr, tc.msg)
				require.Contains(t, r.stderr, tc.file)
				_, err := os.Stat(out)
				require.True(t, os.IsNotExist(err), "no output after an error")
				require.Empty(t, dirEntries(t, filepath.Dir(out)), "no temporary file left")
				return
			}
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			if tc.rows == 0 {
				require.Empty(t, b)
				return
			}
			rows := parseJSONL(t, string(b))
			require.Len(t, rows, tc.rows)
			for _, row := range rows {
				vector(t, row["embedding"])
			}
		})
	}
}

// TestSpecialDestinations: devices and FIFOs are written directly, never replaced.
func TestSpecialDestinations(t *testing.T) {
	vars := modelVars(t)
	// As root, a regression would replace the device node: test on a private null device
	// then (root may create one), /dev/null otherwise (where the bug fails on permissions).
	// Where root may not create devices (Bazel's sandbox), the device case is left to the
	// FIFO below, which takes the same branch (any existing non-regular file).
	dest := "/dev/null"
	if os.Geteuid() == 0 {
		dest = filepath.Join(t.TempDir(), "null")
		if err := syscall.Mknod(dest, syscall.S_IFCHR|0o666, int(1<<8|3)); err != nil {
			t.Logf("no device test here (mknod c 1 3: %v); the FIFO case covers the branch", err)
			dest = ""
		}
	}
	if dest != "" {
		r := runCLIWith(t, strings.NewReader("a\nb\n"), vars, "embed", "-o", dest)
		require.Equal(t, exitOK, r.code, r.stderr)
		fi, err := os.Stat(dest)
		require.NoError(t, err)
		require.True(t, fi.Mode()&os.ModeDevice != 0, "%s is still a device", dest)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	got := make(chan []byte, 1)
	go func() {
		b, _ := os.ReadFile(fifo) // blocks until the CLI opens it, reads to EOF
		got <- b
	}()
	r := runCLIWith(t, strings.NewReader("a\nb\n"), vars, "embed", "-o", fifo)
	require.Equal(t, exitOK, r.code, r.stderr)
	var b []byte
	select {
	case b = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the FIFO's reader got nothing: the FIFO was replaced, not written")
	}
	rows := parseJSONL(t, string(b))
	require.Len(t, rows, 2, "the FIFO's reader gets the whole output")
	fi, err := os.Stat(fifo)
	require.NoError(t, err)
	require.True(t, fi.Mode()&os.ModeNamedPipe != 0, "the FIFO is still a FIFO")
}

// TestStreamEqualsLibrary: the streaming CLI gives exactly the library's vectors, over more
// texts than one stream window, to .npy on a file, to .npy through a pipe, and as JSONL.
func TestStreamEqualsLibrary(t *testing.T) {
	vars := modelVars(t)
	var texts []string
	var b strings.Builder
	for i := 0; i < 700; i++ {
		s := fmt.Sprintf("text %d: %s", i, strings.Repeat("word ", i%37))
		texts = append(texts, s)
		b.WriteString(s + "\n")
	}
	e, err := embed.New(embed.WithModelDir(vars["MINILM_MODEL_DIR"]), embed.WithBackend(embed.CPU))
	require.NoError(t, err)
	defer e.Close()
	want, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)

	check := func(t *testing.T, data []float32) {
		t.Helper()
		require.Len(t, data, len(texts)*embed.Dim)
		for i := range want {
			for c := range want[i] {
				if data[i*embed.Dim+c] != want[i][c] {
					t.Fatalf("text %d differs from the library's vector", i)
				}
			}
		}
	}
	out := filepath.Join(t.TempDir(), "v.npy")
	r := runCLIWith(t, strings.NewReader(b.String()), vars, "embed", "-o", out, "--batch-size", "8", "--backend", "cpu")
	require.Equal(t, exitOK, r.code, r.stderr)
	shape, data, err := npy.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, []int{len(texts), embed.Dim}, shape)
	check(t, data)

	// .npy to a pipe (not seekable): spooled, same bytes.
	r = runCLIWith(t, strings.NewReader(b.String()), vars, "embed", "--output-format", "npy", "--backend", "cpu")
	require.Equal(t, exitOK, r.code, r.stderr)
	shape, data, err = npy.Read(strings.NewReader(r.stdout))
	require.NoError(t, err)
	require.Equal(t, []int{len(texts), embed.Dim}, shape)
	check(t, data)

	// Quantized JSONL equals the library's Encode.
	r = runCLIWith(t, strings.NewReader(b.String()), vars, "embed", "--output-precision", "ubinary", "--backend", "cpu")
	require.Equal(t, exitOK, r.code, r.stderr)
	rows := parseJSONL(t, r.stdout)
	require.Len(t, rows, len(texts))
	for i, row := range rows {
		var bits []int
		require.NoError(t, json.Unmarshal(row["embedding"], &bits))
		require.Len(t, bits, 48)
		for k, x := range bits {
			var byteWant uint8
			for j := 0; j < 8; j++ {
				if want[i][8*k+j] > 0 {
					byteWant |= 0x80 >> uint(j)
				}
			}
			require.Equal(t, int(byteWant), x, "text %d byte %d", i, k)
		}
	}
}

// withTensor returns a copy of a safetensors file with one value of tensor name replaced
// (float32 tensors), or with the tensor's dtype field rewritten when dtype is set.
func withTensor(t *testing.T, weights []byte, name string, value float32, dtype string) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(weights)
	var header map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(weights[8:8+n], &header))
	var info struct {
		Dtype   string `json:"dtype"`
		Offsets [2]int `json:"data_offsets"`
	}
	require.NoError(t, json.Unmarshal(header[name], &info), "tensor %s", name)
	out := append([]byte(nil), weights...)
	if dtype != "" {
		h := out[8 : 8+n]
		at := bytes.Index(h, header[name])
		require.GreaterOrEqual(t, at, 0)
		entry := bytes.Replace(header[name], []byte(`"dtype":"`+info.Dtype+`"`), []byte(`"dtype":"`+dtype+`"`), 1)
		require.Equal(t, len(header[name]), len(entry), "dtype names of the same length keep the header length")
		copy(h[at:], entry)
		return out
	}
	require.Equal(t, "F32", info.Dtype)
	binary.LittleEndian.PutUint32(out[8+int(n)+info.Offsets[0]+4*7:], math.Float32bits(value))
	return out
}

// TestModelFaults: every broken model file is a clear error naming the file (and the tensor
// for bad values), exit 1, and no output file.
func TestModelFaults(t *testing.T) {
	src := modelVars(t)["MINILM_MODEL_DIR"]
	weights, err := os.ReadFile(filepath.Join(src, "model.safetensors"))
	require.NoError(t, err)
	hugeHeader := append([]byte(nil), weights...)
	binary.LittleEndian.PutUint64(hugeHeader, 1<<62)
	corruptHeader := append([]byte(nil), weights...)
	copy(corruptHeader[8:], "{{{{")
	const ln = "embeddings.LayerNorm.weight"
	tests := []struct {
		name, file string
		data       []byte
		msg        []string
	}{
		{"missing weights", "model.safetensors", nil, []string{"model.safetensors"}},
		{"empty weights", "model.safetensors", []byte{}, []string{"model.safetensors"}},
		{"truncated weights", "model.safetensors", weights[:len(weights)/2], []string{"model.safetensors"}},
		{"corrupt header", "model.safetensors", corruptHeader, []string{"model.safetensors"}},
		{"huge header length", "model.safetensors", hugeHeader, []string{"model.safetensors"}},
		{"wrong dtype", "model.safetensors", withTensor(t, weights, ln, 0, "I32"), []string{"model.safetensors", ln}},
		{"NaN weight", "model.safetensors", withTensor(t, weights, ln, float32(math.NaN()), ""), []string{"model.safetensors", ln, "non-finite"}},
		{"Inf weight", "model.safetensors", withTensor(t, weights, "encoder.layer.3.output.dense.weight", float32(math.Inf(1)), ""), []string{"encoder.layer.3.output.dense.weight", "non-finite"}},
		{"missing config", "config.json", nil, []string{"config.json"}},
		{"config not JSON", "config.json", []byte(`{"hidden_size": `), []string{"config.json"}},
		{"config wrong type", "config.json", []byte(`{"hidden_size": "big"}`), []string{"config.json"}},
		{"config bad values", "config.json", []byte(`{"hidden_size": 384, "num_attention_heads": 7, "num_hidden_layers": 6, "intermediate_size": 1536, "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12}`), []string{"config.json"}},
		{"missing tokenizer", "tokenizer.json", nil, []string{"tokenizer.json"}},
		{"corrupt tokenizer", "tokenizer.json", []byte(`{"model": {`), []string{"tokenizer.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := testmodel.CopyWith(t, tc.file, tc.data)
			outDir := t.TempDir()
			out := filepath.Join(outDir, "v.npy")
			r := runCLIWith(t, strings.NewReader("a\nb\n"), nil, "embed", "--model-dir", dir, "--backend", "cpu", "-o", out)
			require.Equal(t, exitError, r.code, "stderr: %s", r.stderr)
			for _, m := range tc.msg {
				require.Contains(t, r.stderr, m)
			}
			require.Empty(t, dirEntries(t, outDir), "nothing written")
		})
	}
}

// TestHelpSpellsFlagsWithTwoDashes: --help lists every flag as its examples write them,
// --name (single letters keep one dash), with its help text.
func TestHelpSpellsFlagsWithTwoDashes(t *testing.T) {
	single := regexp.MustCompile(`(?m)^  -[a-z][a-z-]+`)
	for cmd, fs := range map[string]func(env) *flag.FlagSet{
		"embed":      func(e env) *flag.FlagSet { fs, _ := embedFlags(e); return fs },
		"similarity": func(e env) *flag.FlagSet { fs, _ := similarityFlags(e); return fs },
		"serve":      func(e env) *flag.FlagSet { fs, _ := serveFlags(e); return fs },
	} {
		var out bytes.Buffer
		code := run(context.Background(), []string{"help", cmd}, env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }})
		require.Equal(t, exitOK, code, out.String())
		require.False(t, single.MatchString(out.String()), "%s --help spells a flag with one dash:\n%s", cmd, single.FindString(out.String()))
		fs(env{stderr: io.Discard}).VisitAll(func(f *flag.Flag) {
			dashes := "--"
			if len(f.Name) == 1 {
				dashes = "-"
			}
			require.Contains(t, out.String(), "  "+dashes+f.Name, "%s --help lists %s", cmd, f.Name)
		})
	}
}
