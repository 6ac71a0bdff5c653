// Package peers runs other embedding engines (sentence-transformers, ONNX Runtime, hugot)
// as subprocesses on the same texts with the same thread count, so the benchmarks can report
// our throughput as a ratio to theirs.
//
// The protocol is the one of python/bench/peer_common.py: the benchmark writes a job spec
// (JSON) and the texts (JSON lines), runs `<command> --spec SPEC --out RESULT`, and reads the
// result JSON; vectors come back as raw little-endian float32 files. A peer that cannot run
// (missing interpreter, package or model) is reported as not run, with the reason.
package peers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Job is one measurement a peer runs; see peer_common.py for the modes.
type Job struct {
	Name        string `json:"name"`
	Mode        string `json:"mode"` // chunked, bulk or single
	TextsFile   string `json:"texts_file"`
	BatchSizes  []int  `json:"batch_sizes"`
	WarmupCalls int    `json:"warmup_calls"`
	Repeat      int    `json:"repeat,omitempty"`
	VectorsOut  string `json:"vectors_out,omitempty"`
}

// Spec is the job spec a peer reads.
type Spec struct {
	ModelDir     string `json:"model_dir"`
	Threads      int    `json:"threads"`
	MaxSeqLength int    `json:"max_seq_length"`
	Jobs         []Job  `json:"jobs"`
}

// Run is one timed run of a job.
type Run struct {
	BatchSize int       `json:"batch_size"`
	Texts     int       `json:"texts"`
	Seconds   float64   `json:"seconds"`
	CallMs    []float64 `json:"call_ms"`
	VmHWM     uint64    `json:"vmhwm_bytes"`
}

// JobResult holds a job's runs.
type JobResult struct {
	Name string `json:"name"`
	Mode string `json:"mode"`
	Runs []Run  `json:"runs"`
}

// Result is what a peer writes.
type Result struct {
	Engine      string                 `json:"engine"`
	Versions    map[string]interface{} `json:"versions"`
	Threads     int                    `json:"threads"`
	LoadSeconds float64                `json:"load_seconds"`
	// FirstVectorSeconds is the peer's cold start: exec to first embedding.
	FirstVectorSeconds float64     `json:"first_vector_seconds"`
	Jobs               []JobResult `json:"jobs"`
	Error              *string     `json:"error"`
	WallSeconds        float64     `json:"wall_seconds"` // set by Exec: process start to exit
}

// Job returns the result of the named job, or nil.
func (r *Result) Job(name string) *JobResult {
	for i := range r.Jobs {
		if r.Jobs[i].Name == name {
			return &r.Jobs[i]
		}
	}
	return nil
}

// Peer is one engine and how to start it.
type Peer struct {
	Name    string   // e.g. "sentence-transformers"
	Command []string // argv before --spec/--out
	Dir     string   // working directory ("" = current)
	Env     []string // extra environment
	// Unavailable, when set, is why the peer cannot run at all; Exec then does not start it.
	Unavailable string
	// MaxTexts, when positive, limits a slow peer to the first MaxTexts texts of each corpus
	// in the batch benchmark (see --hugot-texts).
	MaxTexts int
}

// NotRunError says a peer did not produce results, and why.
type NotRunError struct {
	Peer   string
	Reason string
}

func (e *NotRunError) Error() string { return fmt.Sprintf("%s not run: %s", e.Peer, e.Reason) }

// Exec runs the peer on spec in workDir and returns its result. Failures to start or a peer
// that reports an error come back as *NotRunError.
func Exec(ctx context.Context, p Peer, spec Spec, workDir string, timeout time.Duration) (*Result, error) {
	if p.Unavailable != "" {
		return nil, &NotRunError{p.Name, p.Unavailable}
	}
	if len(p.Command) == 0 {
		return nil, &NotRunError{p.Name, "no command"}
	}
	tag := sanitize(p.Name)
	specPath := filepath.Join(workDir, tag+".spec.json")
	outPath := filepath.Join(workDir, tag+".result.json")
	logPath := filepath.Join(workDir, tag+".log")
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(specPath, b, 0o644); err != nil {
		return nil, err
	}
	_ = os.Remove(outPath)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	args := append(append([]string(nil), p.Command[1:]...), "--spec", specPath, "--out", outPath)
	cmd := exec.CommandContext(ctx, p.Command[0], args...)
	cmd.Dir = p.Dir
	var logBuf bytes.Buffer
	cmd.Stdout = &logBuf
	cmd.Stderr = &logBuf
	start := time.Now()
	cmd.Env = append(append(os.Environ(), p.Env...), fmt.Sprintf("BENCH_EXEC_UNIX_NS=%d", start.UnixNano()))
	runErr := cmd.Run()
	wall := time.Since(start).Seconds()
	_ = os.WriteFile(logPath, logBuf.Bytes(), 0o644)

	var res Result
	if rb, err := os.ReadFile(outPath); err == nil {
		if err := json.Unmarshal(rb, &res); err != nil {
			return nil, &NotRunError{p.Name, fmt.Sprintf("unreadable result %s: %v", outPath, err)}
		}
	} else {
		reason := "no result"
		if runErr != nil {
			reason = runErr.Error()
		}
		if ctx.Err() != nil {
			reason = "timed out after " + timeout.String()
		}
		return nil, &NotRunError{p.Name, fmt.Sprintf("%s; last output: %s (full log %s)", reason, lastLine(logBuf.String()), logPath)}
	}
	if res.Error != nil {
		return nil, &NotRunError{p.Name, fmt.Sprintf("%s (log %s)", *res.Error, logPath)}
	}
	if runErr != nil {
		return nil, &NotRunError{p.Name, fmt.Sprintf("%v (log %s)", runErr, logPath)}
	}
	res.WallSeconds = wall
	return &res, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			if len(l) > 300 {
				l = l[:300] + "…"
			}
			return l
		}
	}
	return "(none)"
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// WriteTexts writes texts as JSON lines, the peers' input format.
func WriteTexts(path string, texts []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, t := range texts {
		if err := enc.Encode(t); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadVectors reads n vectors of dim float32 values (little-endian, row-major) from path.
func ReadVectors(path string, n, dim int) ([][]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != n*dim*4 {
		return nil, fmt.Errorf("%s: %d bytes, want %d (%d vectors of %d float32)", path, len(b), n*dim*4, n, dim)
	}
	out := make([][]float32, n)
	flat := make([]float32, n*dim)
	for i := range flat {
		flat[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out, nil
}

// Python returns a peer that runs script (a path) with the interpreter and extra args.
func Python(name, interpreter, script string, extra ...string) Peer {
	p := Peer{Name: name, Command: append([]string{interpreter, script}, extra...),
		Env: []string{"HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "PYTHONDONTWRITEBYTECODE=1"}}
	if _, err := exec.LookPath(interpreter); err != nil {
		p.Unavailable = fmt.Sprintf("python interpreter %q not found (pass --python)", interpreter)
	} else if _, err := os.Stat(script); err != nil {
		p.Unavailable = fmt.Sprintf("peer script %s not found (pass --peer-scripts)", script)
	}
	return p
}

// ScriptsDir finds python/bench: flag if set, else the runfiles copy, else the repository's.
func ScriptsDir(flag, repoRoot string) (string, error) {
	for _, c := range []string{flag, filepath.Join("python", "bench"), filepath.Join(repoRoot, "python", "bench")} {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "peer_common.py")); err == nil {
			return filepath.Abs(c)
		}
	}
	return "", errors.New("python/bench (peer scripts) not found: pass --peer-scripts")
}

// EnsureONNX returns an ONNX export of the model: path if given, else
// cacheDir/model.onnx, exporting it first with export_onnx.py if missing.
func EnsureONNX(ctx context.Context, path, cacheDir, interpreter, scriptsDir, modelDir string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("--onnx %s: %v", path, err)
		}
		return path, nil
	}
	out := filepath.Join(cacheDir, "model.onnx")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	// Export next to the cache and move it in only once the export checked out, so a failed
	// or interrupted export never leaves a model behind.
	tmp := cacheDir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(cacheDir), 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, interpreter, filepath.Join(scriptsDir, "export_onnx.py"), "--model-dir", modelDir, "--out-dir", tmp)
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("exporting ONNX with %s: %v: %s", interpreter, err, lastLine(string(b)))
	}
	if err := os.RemoveAll(cacheDir); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, cacheDir); err != nil {
		return "", err
	}
	return out, nil
}

// Int8ONNXName is the file name of the int8 model EnsureONNXInt8 writes.
const Int8ONNXName = "model_qint8_avx512_vnni.onnx"

// EnsureONNXInt8 returns the int8 quantization of the float32 ONNX export fp32: path if given,
// else dir/Int8ONNXName, written first with quantize_onnx.py (the dynamic quantization that
// sentence-transformers recommends for CPUs, "avx512_vnni") if missing. The script writes
// next to the output and renames only once its check passed, so no half-written model stays.
func EnsureONNXInt8(ctx context.Context, path, fp32, dir, interpreter, scriptsDir, modelDir string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("--onnx-int8 %s: %v", path, err)
		}
		return path, nil
	}
	out := filepath.Join(dir, Int8ONNXName)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, interpreter, filepath.Join(scriptsDir, "quantize_onnx.py"), "--onnx", fp32, "--out", out, "--model-dir", modelDir)
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("quantizing the ONNX model with %s: %v: %s", interpreter, err, lastLine(string(b)))
	}
	return out, nil
}
