package cpu

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/minilm-coreml/minilm/go/safetensors"
)

// config is the part of a Hugging Face BERT config.json the encoder needs.
type config struct {
	ModelType             string  `json:"model_type"`
	HiddenSize            int     `json:"hidden_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	IntermediateSize      int     `json:"intermediate_size"`
	HiddenAct             string  `json:"hidden_act"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	TypeVocabSize         int     `json:"type_vocab_size"`
	VocabSize             int     `json:"vocab_size"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	PositionEmbeddingType string  `json:"position_embedding_type"`
}

func readConfig(path string) (*config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cpu: reading model config: %w", err)
	}
	c := &config{LayerNormEps: 1e-12, HiddenAct: "gelu", PositionEmbeddingType: "absolute"}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("cpu: model config %s: bad JSON: %v", path, err)
	}
	bad := func(format string, args ...interface{}) error {
		return fmt.Errorf("cpu: model config %s: %s", path, fmt.Sprintf(format, args...))
	}
	switch {
	case c.ModelType != "bert":
		return nil, bad("model_type is %q, want \"bert\"", c.ModelType)
	case c.HiddenAct != "gelu":
		return nil, bad("hidden_act is %q, only exact \"gelu\" is supported", c.HiddenAct)
	case c.PositionEmbeddingType != "absolute":
		return nil, bad("position_embedding_type is %q, only \"absolute\" is supported", c.PositionEmbeddingType)
	case c.HiddenSize <= 0 || c.NumAttentionHeads <= 0 || c.HiddenSize%c.NumAttentionHeads != 0:
		return nil, bad("hidden_size %d is not a positive multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	case c.NumHiddenLayers <= 0 || c.IntermediateSize <= 0 || c.MaxPositionEmbeddings <= 0 || c.VocabSize <= 0 || c.TypeVocabSize <= 0:
		return nil, bad("num_hidden_layers, intermediate_size, max_position_embeddings, vocab_size and type_vocab_size must be positive")
	case c.LayerNormEps <= 0:
		return nil, bad("layer_norm_eps %g must be positive", c.LayerNormEps)
	}
	return c, nil
}

// layer holds one encoder layer's weights; the linear layers in the compute precision.
type layer struct {
	qkv  linear // 3d×d: query (pre-scaled by 1/√head), key, value rows
	out  linear // d×d
	ln1G []float32
	ln1B []float32
	up   linear // ffn×d
	down linear // d×ffn
	ln2G []float32
	ln2B []float32
}

type weights struct {
	word, pos, typ []float32
	embG, embB     []float32
	layers         []layer
}

// loadWeights reads the encoder weights from a safetensors file, making each linear layer
// with mk.
func loadWeights(path string, c *config, mk linearMaker) (*weights, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cpu: %w", err)
	}
	defer f.Close()
	// Checkpoints saved from BertModel have no prefix; from BertFor* they have "bert.".
	prefix := ""
	if _, ok := f.Tensor("embeddings.word_embeddings.weight"); !ok {
		if _, ok := f.Tensor("bert.embeddings.word_embeddings.weight"); ok {
			prefix = "bert."
		}
	}
	var firstErr error
	get := func(name string, shape ...int) []float32 {
		if firstErr != nil {
			return nil
		}
		v, err := f.Float32(prefix+name, shape...)
		if err != nil {
			firstErr = fmt.Errorf("cpu: %w", err)
			return nil
		}
		// A NaN or infinite weight would make every embedding NaN: refuse the file, naming
		// the tensor, instead of computing garbage.
		for i, x := range v {
			if x != x || math.IsInf(float64(x), 0) {
				firstErr = fmt.Errorf("cpu: %s: tensor %s holds a non-finite value (%v) at flat index %d: the weights are corrupt", path, prefix+name, x, i)
				return nil
			}
		}
		return v
	}
	d, ffn := c.HiddenSize, c.IntermediateSize
	w := &weights{
		word: get("embeddings.word_embeddings.weight", c.VocabSize, d),
		pos:  get("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, d),
		typ:  get("embeddings.token_type_embeddings.weight", c.TypeVocabSize, d),
		embG: get("embeddings.LayerNorm.weight", d),
		embB: get("embeddings.LayerNorm.bias", d),
	}
	scale := float32(1 / sqrt(float64(d/c.NumAttentionHeads)))
	for i := 0; i < c.NumHiddenLayers && firstErr == nil; i++ {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		q := get(p+"attention.self.query.weight", d, d)
		qb := get(p+"attention.self.query.bias", d)
		k := get(p+"attention.self.key.weight", d, d)
		kb := get(p+"attention.self.key.bias", d)
		v := get(p+"attention.self.value.weight", d, d)
		vb := get(p+"attention.self.value.bias", d)
		o := get(p+"attention.output.dense.weight", d, d)
		ob := get(p+"attention.output.dense.bias", d)
		l := layer{
			ln1G: get(p+"attention.output.LayerNorm.weight", d),
			ln1B: get(p+"attention.output.LayerNorm.bias", d),
			ln2G: get(p+"output.LayerNorm.weight", d),
			ln2B: get(p+"output.LayerNorm.bias", d),
		}
		upBias := get(p+"intermediate.dense.bias", ffn)
		dnBias := get(p+"output.dense.bias", d)
		up := get(p+"intermediate.dense.weight", ffn, d)
		down := get(p+"output.dense.weight", d, ffn)
		if firstErr != nil {
			break
		}
		// Fold the attention scale into the query projection. For head width 64 it is 1/8, a
		// power of two, so the scores are bit-identical to scaling after the product.
		for j := range q {
			q[j] *= scale
		}
		for j := range qb {
			qb[j] *= scale
		}
		qkv := make([]float32, 0, 3*d*d)
		qkv = append(append(append(qkv, q...), k...), v...)
		l.qkv = mk(qkv, 3*d, d, append(append(append([]float32(nil), qb...), kb...), vb...))
		l.out = mk(o, d, d, ob)
		l.up = mk(up, ffn, d, upBias)
		l.down = mk(down, d, ffn, dnBias)
		w.layers = append(w.layers, l)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return w, nil
}

// modelFiles returns the config and weight paths of a model directory, checking they exist.
func modelFiles(dir string) (cfg, weights string, err error) {
	cfg = filepath.Join(dir, "config.json")
	weights = filepath.Join(dir, "model.safetensors")
	for _, p := range []string{cfg, weights} {
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", "", fmt.Errorf("cpu: model file %s is missing", p)
			}
			return "", "", fmt.Errorf("cpu: %w", err)
		}
	}
	return cfg, weights, nil
}
