package pooling

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
)

// TestMatchesSentenceTransformers pools the last hidden state of a padded two-text batch
// recorded from sentence-transformers and compares with its pooled, normalized output.
func TestMatchesSentenceTransformers(t *testing.T) {
	b, err := os.ReadFile(testmodel.RepoFile(t, "testdata/fixtures/encoder_reference.json"))
	require.NoError(t, err)
	var fx struct {
		Pooling struct {
			Rows, Seq, Dim int
			Mask           []int32
			Hidden         []float32
			Embeddings     []float32
		}
	}
	require.NoError(t, json.Unmarshal(b, &fx))
	p := fx.Pooling
	require.Equal(t, 384, p.Dim)
	require.Less(t, p.Rows*p.Seq-1, len(p.Mask))
	vecs, err := Embed(p.Hidden, p.Mask, p.Rows, p.Seq, p.Dim)
	require.NoError(t, err)
	var worst float64
	for r, v := range vecs {
		want := p.Embeddings[r*p.Dim : (r+1)*p.Dim]
		for c := range v {
			d := math.Abs(float64(v[c] - want[c]))
			if d > worst {
				worst = d
			}
			// A few float32 ulps of values below 1.
			require.InDeltaf(t, want[c], v[c], 3e-7, "row %d channel %d", r, c)
		}
	}
	t.Logf("worst |Δ| to sentence-transformers: %.3g", worst)
}
