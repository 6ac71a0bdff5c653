package cpu

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/plan"
)

// A tiny BERT with generic dimensions, written by the test, exercises loading and its errors
// without the real model.
const tinyConfig = `{"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
 "intermediate_size": 48, "hidden_act": "gelu", "max_position_embeddings": 16, "type_vocab_size": 2,
 "vocab_size": 50, "layer_norm_eps": 1e-12}`

type tensorSpec struct {
	dtype string
	shape []int
}

func tinyTensors() map[string]tensorSpec {
	d, f := 32, 48
	t := map[string]tensorSpec{
		"embeddings.word_embeddings.weight":       {"F32", []int{50, d}},
		"embeddings.position_embeddings.weight":   {"F32", []int{16, d}},
		"embeddings.token_type_embeddings.weight": {"F32", []int{2, d}},
		"embeddings.LayerNorm.weight":             {"F32", []int{d}},
		"embeddings.LayerNorm.bias":               {"F32", []int{d}},
		"embeddings.position_ids":                 {"I64", []int{1, 16}},
	}
	for i := 0; i < 2; i++ {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		for _, n := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
			t[p+n+".weight"] = tensorSpec{"F32", []int{d, d}}
			t[p+n+".bias"] = tensorSpec{"F32", []int{d}}
		}
		t[p+"intermediate.dense.weight"] = tensorSpec{"F32", []int{f, d}}
		t[p+"intermediate.dense.bias"] = tensorSpec{"F32", []int{f}}
		t[p+"output.dense.weight"] = tensorSpec{"F32", []int{d, f}}
		t[p+"output.dense.bias"] = tensorSpec{"F32", []int{d}}
		for _, n := range []string{"attention.output.LayerNorm", "output.LayerNorm"} {
			t[p+n+".weight"] = tensorSpec{"F32", []int{d}}
			t[p+n+".bias"] = tensorSpec{"F32", []int{d}}
		}
	}
	return t
}

func writeSafetensors(t *testing.T, path string, specs map[string]tensorSpec) {
	rng := rand.New(rand.NewSource(3))
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	sort.Strings(names)
	hdr := map[string]interface{}{}
	var data bytes.Buffer
	for _, n := range names {
		s := specs[n]
		count := 1
		for _, x := range s.shape {
			count *= x
		}
		begin := data.Len()
		for i := 0; i < count; i++ {
			switch s.dtype {
			case "F32":
				_ = binary.Write(&data, binary.LittleEndian, math.Float32bits(float32(rng.NormFloat64()*0.2)))
			case "I64":
				_ = binary.Write(&data, binary.LittleEndian, int64(i))
			}
		}
		hdr[n] = map[string]interface{}{"dtype": s.dtype, "shape": s.shape, "data_offsets": []int{begin, data.Len()}}
	}
	js, err := json.Marshal(hdr)
	require.NoError(t, err)
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.LittleEndian, uint64(len(js)))
	buf.Write(js)
	buf.Write(data.Bytes())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func tinyModel(t *testing.T, specs map[string]tensorSpec) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(tinyConfig), 0o644))
	writeSafetensors(t, filepath.Join(dir, "model.safetensors"), specs)
	return dir
}

// TestTinyModelRuns runs the committed tiny BERT (testdata/tiny, 2 layers, hidden 32) on a
// padded batch with both kernel sets and checks every real position's hidden state against
// transformers' BertModel (testdata/make_tiny_reference.py), and zeros at the padding.
func TestTinyModelRuns(t *testing.T) {
	var ref struct {
		IDs    [][]int32     `json:"ids"`
		Mask   [][]int32     `json:"mask"`
		Hidden [][][]float64 `json:"hidden"`
	}
	// The package directory under go test, the runfiles root under bazel (rundir "."):
	// RepoFile finds the files from either.
	dir := filepath.Dir(testmodel.RepoFile(t, "go/backend/cpu/testdata/tiny/reference.json"))
	raw, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &ref))
	rows, seq := len(ref.IDs), len(ref.IDs[0])
	in := &backend.Input{Shape: plan.Shape{Batch: rows, Seq: seq}, Rows: rows}
	for r := range ref.IDs {
		in.IDs = append(in.IDs, ref.IDs[r]...)
		in.Mask = append(in.Mask, ref.Mask[r]...)
	}
	for _, pure := range []bool{false, true} {
		var opts []Option
		if pure {
			opts = append(opts, withPureGo())
		}
		b, err := New(dir, opts...)
		require.NoError(t, err)
		d := b.HiddenSize()
		require.Equal(t, 32, d)
		require.Equal(t, 16, b.Shapes().MaxSeq())
		out := make([]float32, rows*seq*d)
		require.NoError(t, b.Forward(context.Background(), in, out))
		real := 0
		for r := 0; r < rows; r++ {
			for p := 0; p < seq; p++ {
				got := out[(r*seq+p)*d : (r*seq+p+1)*d]
				if in.Mask[r*seq+p] == 0 {
					require.Equal(t, make([]float32, d), got, "%s kernels: padded position %d,%d is not zero", b.ISA(), r, p)
					continue
				}
				real++
				for c, want := range ref.Hidden[r][p] {
					require.InDeltaf(t, want, float64(got[c]), 2e-5, "%s kernels: hidden[%d][%d][%d]", b.ISA(), r, p, c)
				}
			}
		}
		require.Equal(t, 7, real, "real positions checked")
		require.NoError(t, b.Close())
		require.ErrorIs(t, b.Forward(context.Background(), in, out), ErrClosed)
	}
}

func TestLoadErrors(t *testing.T) {
	without := func(name string) map[string]tensorSpec {
		s := tinyTensors()
		delete(s, name)
		return s
	}
	with := func(name string, spec tensorSpec) map[string]tensorSpec {
		s := tinyTensors()
		s[name] = spec
		return s
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string
	}{
		{"missing weights", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors")))
		}, []string{"model.safetensors is missing"}},
		{"missing config", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "config.json")))
		}, []string{"config.json is missing"}},
		{"config bad JSON", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": `), 0o644))
		}, []string{"config.json", "bad JSON"}},
		{"config not BERT", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "gpt2"}`), 0o644))
		}, []string{"config.json", `model_type is "gpt2"`}},
		{"config heads do not divide hidden", func(t *testing.T, dir string) {
			cfg := bytes.Replace([]byte(tinyConfig), []byte(`"num_attention_heads": 2`), []byte(`"num_attention_heads": 5`), 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644))
		}, []string{"config.json", "not a positive multiple"}},
		{"truncated weights", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			st, err := os.Stat(p)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(p, st.Size()/2))
		}, []string{"model.safetensors", "out of bounds"}},
		{"weights cut in header", func(t *testing.T, dir string) {
			require.NoError(t, os.Truncate(filepath.Join(dir, "model.safetensors"), 100))
		}, []string{"model.safetensors", "beyond the end"}},
		{"weights bad header", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			copy(b[8:], "nonsense")
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}, []string{"model.safetensors", "bad JSON header"}},
		{"empty weights", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "model.safetensors"), nil, 0o644))
		}, []string{"model.safetensors", "truncated header"}},
		{"missing tensor", func(t *testing.T, dir string) {
			writeSafetensors(t, filepath.Join(dir, "model.safetensors"), without("encoder.layer.1.output.dense.weight"))
		}, []string{"model.safetensors", `missing tensor "encoder.layer.1.output.dense.weight"`}},
		{"wrong shape", func(t *testing.T, dir string) {
			writeSafetensors(t, filepath.Join(dir, "model.safetensors"), with("encoder.layer.0.attention.self.key.weight", tensorSpec{"F32", []int{32, 31}}))
		}, []string{"model.safetensors", `"encoder.layer.0.attention.self.key.weight" has shape [32 31], want [32 32]`}},
		{"wrong dtype", func(t *testing.T, dir string) {
			writeSafetensors(t, filepath.Join(dir, "model.safetensors"), with("embeddings.LayerNorm.bias", tensorSpec{"I64", []int{32}}))
		}, []string{"model.safetensors", `"embeddings.LayerNorm.bias" has dtype I64`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tinyModel(t, tinyTensors())
			tc.setup(t, dir)
			b, err := New(dir)
			require.Nil(t, b)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}
