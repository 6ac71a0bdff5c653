// Package cli holds the flags and setup the benchmark binaries share: model and data
// locations, thread count, the output directory and the peers.
package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/minilm-coreml/minilm/go/bench/internal/benchdata"
	"github.com/minilm-coreml/minilm/go/bench/internal/measure"
	"github.com/minilm-coreml/minilm/go/bench/internal/peers"
)

// Common are the flags of every benchmark binary.
type Common struct {
	Out          string
	ModelDir     string
	DataDir      string
	Quick        bool
	Threads      int
	MaxSeqLength int
	Python       string
	PeerScripts  string
	Peers        string
	RequirePeers bool
	ONNX         string
	ONNXInt8     string
	HugotBin     string
	HugotTexts   int
	CoreMLModel  string
	ComputeUnits string
	MaxLoad      float64
}

// Register adds the common flags to fs.
func (c *Common) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Out, "out", "", "directory for results.json, report.md and the plots (required)")
	fs.StringVar(&c.ModelDir, "model-dir", "", "model directory (config.json, tokenizer.json, model.safetensors); default $MINILM_MODEL_DIR, then the runfiles path models/minilm_weights")
	fs.StringVar(&c.DataDir, "data-dir", "", "evaluation data (stsb-test.tsv, scifact/); default $MINILM_DATA_DIR, then ../shared/data next to the repository")
	fs.BoolVar(&c.Quick, "quick", false, "small corpora and few iterations: a smoke test that finishes in well under a minute")
	fs.IntVar(&c.Threads, "threads", runtime.NumCPU(), "threads for every engine: GOMAXPROCS and CPU backend workers, torch threads, ONNX Runtime intra-op threads")
	fs.IntVar(&c.MaxSeqLength, "max-seq-length", 256, "token limit per text for every engine (all-MiniLM-L6-v2's max_seq_length is 256)")
	fs.StringVar(&c.Python, "python", "python3", "interpreter of the Python peers (needs sentence-transformers, torch, onnxruntime, onnx)")
	fs.StringVar(&c.PeerScripts, "peer-scripts", "", "directory of the peer scripts (default: python/bench in the runfiles or the repository)")
	fs.StringVar(&c.Peers, "peers", "sentence-transformers,onnxruntime,onnxruntime-int8,hugot", "comma-separated peers to run (sentence-transformers, onnxruntime, onnxruntime-int8, hugot), or none")
	fs.BoolVar(&c.RequirePeers, "require-peers", false, "fail if a requested peer cannot run (default: report it as not run)")
	fs.StringVar(&c.ONNX, "onnx", "", "ONNX export of the model for the onnxruntime and hugot peers (default: export once into the user cache with python/bench/export_onnx.py)")
	fs.StringVar(&c.ONNXInt8, "onnx-int8", "", "int8 ONNX model for the onnxruntime-int8 peer (default: quantize the float32 export once with python/bench/quantize_onnx.py, sentence-transformers' \"avx512_vnni\" dynamic quantization)")
	fs.StringVar(&c.HugotBin, "hugot-bin", "", "binary of the hugot peer (go/bench/peers/hugot, built with Go >= 1.24); default: `go build` it with the go on PATH")
	fs.IntVar(&c.HugotTexts, "hugot-texts", 16, "the hugot peer (tens of times slower) embeds only the first N texts of each batch-benchmark corpus (0: all)")
	fs.StringVar(&c.CoreMLModel, "coreml-model", "", "Core ML model (.mlmodelc or .mlpackage) for the coreml engines (darwin); default $MINILM_COREML_MODEL")
	fs.StringVar(&c.ComputeUnits, "compute-units", "all", "Core ML compute units to run: all, none, or a list of cpuOnly,cpuAndGPU,all,cpuAndNeuralEngine")
	fs.Float64Var(&c.MaxLoad, "max-load", 0, "refuse to start when the 1-minute load average exceeds this (0: only warn above 1.5)")
}

// Setup validates the flags, sets GOMAXPROCS and resolves the model directory.
func (c *Common) Setup() error {
	if c.Out == "" {
		return fmt.Errorf("--out DIR is required")
	}
	if c.Threads < 1 {
		return fmt.Errorf("--threads %d: need at least 1", c.Threads)
	}
	runtime.GOMAXPROCS(c.Threads)
	dir, err := benchdata.ModelDir(c.ModelDir)
	if err != nil {
		return err
	}
	c.ModelDir = dir
	out, err := filepath.Abs(c.Out)
	if err != nil {
		return err
	}
	c.Out = out
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	if l := measure.LoadAvg1(); l >= 0 {
		if c.MaxLoad > 0 && l > c.MaxLoad {
			return fmt.Errorf("1-minute load average is %.2f > --max-load %.2f: the machine is busy", l, c.MaxLoad)
		}
		if l > 1.5 {
			fmt.Fprintf(os.Stderr, "warning: 1-minute load average is %.2f: timings will be noisy\n", l)
		}
	}
	return nil
}

// ComputeUnitList splits --compute-units.
func (c *Common) ComputeUnitList() []string { return splitList(c.ComputeUnits) }

// PeerList splits --peers.
func (c *Common) PeerList() []string {
	var out []string
	for _, p := range splitList(c.Peers) {
		if p != "none" {
			out = append(out, p)
		}
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Ints parses a comma-separated list of positive integers.
func Ints(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", p)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return out, nil
}

// Peers builds the requested peers. Those that cannot run carry the reason in
// Peer.Unavailable. workDir holds intermediate files (ONNX export cache, hugot build).
func (c *Common) BuildPeers(ctx context.Context, workDir string) ([]peers.Peer, error) {
	var out []peers.Peer
	names := c.PeerList()
	if len(names) == 0 {
		return nil, nil
	}
	root, _ := benchdata.RepoRoot()
	scripts, scriptsErr := peers.ScriptsDir(c.PeerScripts, root)
	onnxPath := ""
	var onnxErr error
	needONNX, needInt8 := false, false
	for _, n := range names {
		switch n {
		case "onnxruntime", "ort", "hugot":
			needONNX = true
		case "onnxruntime-int8", "ort-int8":
			needInt8 = true
			needONNX = needONNX || c.ONNXInt8 == ""
		}
	}
	if needONNX {
		if scriptsErr != nil && c.ONNX == "" {
			onnxErr = scriptsErr
		} else {
			cache := filepath.Join(userCache(), "minilm-bench", "onnx")
			fmt.Fprintf(os.Stderr, "ONNX model for the peers: %s\n", firstNonEmpty(c.ONNX, filepath.Join(cache, "model.onnx")))
			onnxPath, onnxErr = peers.EnsureONNX(ctx, c.ONNX, cache, c.Python, scripts, c.ModelDir)
		}
	}
	int8Path := ""
	int8Err := onnxErr
	if needInt8 && (onnxErr == nil || c.ONNXInt8 != "") {
		// The int8 model goes next to the cached float32 export, or into the work directory
		// when --onnx named a model elsewhere (whose directory may not be ours to write).
		dir := filepath.Dir(onnxPath)
		if c.ONNX != "" {
			dir = workDir
		}
		int8Path, int8Err = peers.EnsureONNXInt8(ctx, c.ONNXInt8, onnxPath, dir, c.Python, scripts, c.ModelDir)
		if int8Err == nil {
			fmt.Fprintf(os.Stderr, "int8 ONNX model for the peers: %s\n", int8Path)
		}
	}
	for _, n := range names {
		switch n {
		case "sentence-transformers", "st":
			if scriptsErr != nil {
				out = append(out, peers.Peer{Name: "sentence-transformers", Unavailable: scriptsErr.Error()})
				continue
			}
			out = append(out, peers.Python("sentence-transformers", c.Python, filepath.Join(scripts, "peer_sentence_transformers.py")))
		case "onnxruntime", "ort":
			if onnxErr != nil {
				out = append(out, peers.Peer{Name: "onnxruntime", Unavailable: onnxErr.Error()})
				continue
			}
			out = append(out, peers.Python("onnxruntime", c.Python, filepath.Join(scripts, "peer_onnxruntime.py"), "--onnx", onnxPath))
		case "onnxruntime-int8", "ort-int8":
			if int8Err != nil {
				out = append(out, peers.Peer{Name: "onnxruntime-int8", Unavailable: int8Err.Error()})
				continue
			}
			out = append(out, peers.Python("onnxruntime-int8", c.Python, filepath.Join(scripts, "peer_onnxruntime.py"), "--onnx", int8Path, "--precision", "int8"))
		case "hugot":
			if onnxErr != nil {
				out = append(out, peers.Peer{Name: "hugot", Unavailable: "needs the ONNX export: " + onnxErr.Error()})
				continue
			}
			h := peers.Hugot(ctx, c.HugotBin, root, filepath.Join(workDir, "hugot-peer"), filepath.Dir(onnxPath))
			h.MaxTexts = c.HugotTexts
			out = append(out, h)
		default:
			return nil, fmt.Errorf("--peers: unknown peer %q (want sentence-transformers, onnxruntime, onnxruntime-int8, hugot or none)", n)
		}
	}
	return out, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func userCache() string {
	if d, err := os.UserCacheDir(); err == nil {
		return d
	}
	return os.TempDir()
}
