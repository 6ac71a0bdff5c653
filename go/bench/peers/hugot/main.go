// Command hugot-peer runs github.com/knights-analytics/hugot's pure-Go backend (GoMLX
// simplego, no cgo, no ONNX Runtime) as a peer of the Go benchmarks in go/bench, speaking the
// job protocol of python/bench/peer_common.py: --spec SPEC --out RESULT.
//
// It lives in its own module because hugot needs Go >= 1.24 while the main module stays on Go
// 1.19. Build it with a recent go:
//
//	cd go/bench/peers/hugot && go build -o /tmp/hugot-peer .
//
// --model is a directory with model.onnx (python/bench/export_onnx.py) and tokenizer.json.
// The model's tokenizer.json truncates at 128 tokens and pads to a fixed 128; the peer runs
// on a copy whose truncation is the spec's max_seq_length and which does not pad (hugot pads
// each batch to its longest text), so it sees the same tokens as the other engines.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knights-analytics/hugot"
	"github.com/knights-analytics/hugot/pipelines"
)

type job struct {
	Name        string `json:"name"`
	Mode        string `json:"mode"`
	TextsFile   string `json:"texts_file"`
	BatchSizes  []int  `json:"batch_sizes"`
	WarmupCalls int    `json:"warmup_calls"`
	Repeat      int    `json:"repeat"`
	VectorsOut  string `json:"vectors_out"`
}

type spec struct {
	ModelDir     string `json:"model_dir"`
	Threads      int    `json:"threads"`
	MaxSeqLength int    `json:"max_seq_length"`
	Jobs         []job  `json:"jobs"`
}

type run struct {
	BatchSize int       `json:"batch_size"`
	Texts     int       `json:"texts"`
	Seconds   float64   `json:"seconds"`
	CallMs    []float64 `json:"call_ms"`
	VmHWM     uint64    `json:"vmhwm_bytes"`
}

type jobResult struct {
	Name string `json:"name"`
	Mode string `json:"mode"`
	Runs []run  `json:"runs"`
}

type result struct {
	Engine             string            `json:"engine"`
	Versions           map[string]string `json:"versions"`
	Threads            int               `json:"threads"`
	LoadSeconds        float64           `json:"load_seconds"`
	FirstVectorSeconds float64           `json:"first_vector_seconds,omitempty"`
	Jobs               []jobResult       `json:"jobs"`
	Error              *string           `json:"error"`
}

func main() {
	specPath := flag.String("spec", "", "job spec JSON")
	outPath := flag.String("out", "", "result JSON")
	modelDir := flag.String("model", "", "directory with model.onnx and tokenizer.json")
	flag.Parse()
	res := result{Engine: "hugot (pure go)", Versions: map[string]string{"go": runtime.Version()}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/knights-analytics/hugot" || d.Path == "github.com/gomlx/gomlx" || d.Path == "github.com/gomlx/onnx-gomlx" {
				res.Versions[d.Path] = d.Version
			}
		}
	}
	err := runAll(*specPath, *modelDir, &res)
	if err != nil {
		msg := err.Error()
		res.Error = &msg
		fmt.Fprintln(os.Stderr, "hugot-peer:", err)
	}
	b, _ := json.Marshal(res)
	if werr := os.WriteFile(*outPath, b, 0o644); werr != nil {
		fmt.Fprintln(os.Stderr, "hugot-peer:", werr)
		os.Exit(1)
	}
	if err != nil {
		os.Exit(1)
	}
}

type engine struct {
	p *pipelines.FeatureExtractionPipeline
}

// encode embeds texts in batches of b, longest first (as SentenceTransformer.encode), and
// returns them in input order.
func (e engine) encode(texts []string, b int) ([][]float32, error) {
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return len(texts[order[x]]) > len(texts[order[y]]) })
	out := make([][]float32, len(texts))
	for s := 0; s < len(order); s += b {
		end := s + b
		if end > len(order) {
			end = len(order)
		}
		batch := make([]string, 0, end-s)
		for _, i := range order[s:end] {
			batch = append(batch, texts[i])
		}
		r, err := e.p.RunPipeline(batch)
		if err != nil {
			return nil, err
		}
		for k, i := range order[s:end] {
			out[i] = r.Embeddings[k]
		}
	}
	return out, nil
}

func runAll(specPath, modelDir string, res *result) error {
	if specPath == "" || modelDir == "" {
		return fmt.Errorf("--spec, --out and --model are required")
	}
	b, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var sp spec
	if err := json.Unmarshal(b, &sp); err != nil {
		return err
	}
	res.Threads = sp.Threads
	runtime.GOMAXPROCS(sp.Threads)
	dir, err := prepareModel(modelDir, sp.MaxSeqLength)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	t0 := time.Now()
	session, err := hugot.NewGoSession()
	if err != nil {
		return err
	}
	defer session.Destroy()
	p, err := hugot.NewPipeline(session, hugot.FeatureExtractionConfig{
		ModelPath: dir, OnnxFilename: "model.onnx", Name: "minilm",
		Options: []hugot.FeatureExtractionOption{pipelines.WithNormalization()},
	})
	if err != nil {
		return err
	}
	e := engine{p}
	res.LoadSeconds = time.Since(t0).Seconds()
	if _, err := e.encode([]string{"cold start"}, 1); err != nil {
		return err
	}
	if ns, err := strconv.ParseInt(os.Getenv("BENCH_EXEC_UNIX_NS"), 10, 64); err == nil {
		res.FirstVectorSeconds = float64(time.Now().UnixNano()-ns) / 1e9
	}
	for _, j := range sp.Jobs {
		jr, err := runJob(e, j)
		if err != nil {
			return fmt.Errorf("job %s: %w", j.Name, err)
		}
		res.Jobs = append(res.Jobs, jr)
	}
	return nil
}

func runJob(e engine, j job) (jobResult, error) {
	out := jobResult{Name: j.Name, Mode: j.Mode}
	texts, err := readTexts(j.TextsFile)
	if err != nil {
		return out, err
	}
	repeat := j.Repeat
	if repeat < 1 {
		repeat = 1
	}
	var vecs [][]float32
	switch j.Mode {
	case "chunked":
		for _, b := range j.BatchSizes {
			var calls [][]string
			for i := 0; i < len(texts); i += b {
				end := i + b
				if end > len(texts) {
					end = len(texts)
				}
				calls = append(calls, texts[i:end])
			}
			for k := 0; k < j.WarmupCalls && k < len(calls); k++ {
				if _, err := e.encode(calls[k], b); err != nil {
					return out, err
				}
			}
			resetHWM()
			var ms []float64
			start := time.Now()
			for r := 0; r < repeat; r++ {
				for _, c := range calls {
					t := time.Now()
					if _, err := e.encode(c, b); err != nil {
						return out, err
					}
					ms = append(ms, float64(time.Since(t))/1e6)
				}
			}
			out.Runs = append(out.Runs, run{BatchSize: b, Texts: len(texts) * repeat, Seconds: time.Since(start).Seconds(), CallMs: ms, VmHWM: hwm()})
		}
	case "bulk":
		b := j.BatchSizes[0]
		if j.WarmupCalls > 0 {
			n := b
			if n > len(texts) {
				n = len(texts)
			}
			if _, err := e.encode(texts[:n], b); err != nil {
				return out, err
			}
		}
		resetHWM()
		start := time.Now()
		if vecs, err = e.encode(texts, b); err != nil {
			return out, err
		}
		secs := time.Since(start).Seconds()
		out.Runs = append(out.Runs, run{BatchSize: b, Texts: len(texts), Seconds: secs, CallMs: []float64{secs * 1e3}, VmHWM: hwm()})
	case "single":
		for k := 0; k < j.WarmupCalls && k < len(texts); k++ {
			if _, err := e.encode(texts[k:k+1], 1); err != nil {
				return out, err
			}
		}
		resetHWM()
		var ms []float64
		start := time.Now()
		for i := range texts {
			t := time.Now()
			v, err := e.encode(texts[i:i+1], 1)
			if err != nil {
				return out, err
			}
			ms = append(ms, float64(time.Since(t))/1e6)
			vecs = append(vecs, v[0])
		}
		out.Runs = append(out.Runs, run{BatchSize: 1, Texts: len(texts), Seconds: time.Since(start).Seconds(), CallMs: ms, VmHWM: hwm()})
	default:
		return out, fmt.Errorf("unknown mode %q", j.Mode)
	}
	if j.VectorsOut != "" && vecs != nil {
		if err := writeVectors(j.VectorsOut, vecs); err != nil {
			return out, err
		}
	}
	return out, nil
}

// prepareModel makes a directory with a link to model.onnx and a tokenizer.json that
// truncates at maxLen tokens and does not pad.
func prepareModel(src string, maxLen int) (string, error) {
	dir, err := os.MkdirTemp("", "hugot-peer-model-")
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(filepath.Join(src, "model.onnx"))
	if err != nil {
		return "", err
	}
	if err := os.Symlink(abs, filepath.Join(dir, "model.onnx")); err != nil {
		return "", err
	}
	for _, f := range []string{"config.json", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"} {
		if b, err := os.ReadFile(filepath.Join(src, f)); err == nil {
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				return "", err
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(src, "tokenizer.json"))
	if err != nil {
		return "", err
	}
	var tj map[string]interface{}
	if err := json.Unmarshal(b, &tj); err != nil {
		return "", err
	}
	if t, ok := tj["truncation"].(map[string]interface{}); ok {
		t["max_length"] = maxLen
	} else {
		tj["truncation"] = map[string]interface{}{"max_length": maxLen, "strategy": "LongestFirst", "stride": 0, "direction": "Right"}
	}
	tj["padding"] = nil
	if b, err = json.Marshal(tj); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644)
}

func readTexts(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var s string
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func writeVectors(path string, vecs [][]float32) error {
	buf := make([]byte, 0, len(vecs)*384*4)
	for _, v := range vecs {
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
	}
	return os.WriteFile(path, buf, 0o644)
}

func resetHWM() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func hwm() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
