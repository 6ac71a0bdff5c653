package embed_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/fixtures"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
)

// TestPrecisionQuality bounds what a lower compute precision costs: the minimum cosine of
// its vectors to sentence-transformers' over the parity corpus, and the drop of the STS
// Benchmark Spearman correlation from float32's.
func TestPrecisionQuality(t *testing.T) {
	for _, tt := range []struct {
		prec      cpu.Precision
		minCosine float64
		maxDrop   float64
	}{
		{cpu.BF16, 0.999, 0.001},
	} {
		t.Run(tt.prec.String(), func(t *testing.T) {
			dir := testmodel.ModelDir(t)
			e, err := embed.New(embed.WithModelDir(dir), embed.WithBackend(embed.CPU), embed.WithPrecision(tt.prec))
			require.NoError(t, err)
			defer e.Close()
			require.Equal(t, "cpu("+tt.prec.String()+")", e.Backend())

			corpus := readCorpus(t)
			want, err := fixtures.ReadEmbeddings(testmodel.RepoFile(t, fixtures.EmbeddingsFile))
			require.NoError(t, err)
			require.Len(t, want, len(corpus))
			got, err := e.Embed(context.Background(), fixtures.Texts(corpus))
			require.NoError(t, err)
			worst, worstID, sum := 2.0, 0, 0.0
			for i := range corpus {
				c := vecmath.Cosine(got[i], want[i])
				sum += c
				if c < worst {
					worst, worstID = c, corpus[i].ID
				}
			}
			t.Logf("%v vs sentence-transformers over %d texts: min cosine %.6f (text %d), mean %.6f",
				tt.prec, len(corpus), worst, worstID, sum/float64(len(corpus)))
			require.GreaterOrEqual(t, worst, tt.minCosine, "min cosine (text %d)", worstID)

			rho, pairs := stsbSpearman(t, e)
			ref, _ := stsbSpearman(t, newEmbedder(t))
			t.Logf("%v STS Benchmark (%d pairs): Spearman %.6f, float32 %.6f, drop %+.2e", tt.prec, pairs, rho, ref, ref-rho)
			require.LessOrEqual(t, ref-rho, tt.maxDrop, "STS-B Spearman drop from float32")
		})
	}
}
