package embed_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/quantize"
)

// The examples need the model files, so they are compiled but not run by `go test`.

func ExampleNew() {
	// Weights from $MINILM_MODEL_DIR (FromEnv opts in); Core ML on a Mac given
	// $MINILM_COREML_MODEL, else CPU.
	e, err := embed.New(embed.FromEnv())
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	fmt.Println(e.Backend(), e.Dim())
}

func ExampleEmbedder_Embed() {
	e, err := embed.New(embed.WithModelDir("models/all-MiniLM-L6-v2"), embed.WithBatchSize(64))
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	vecs, err := e.Embed(context.Background(), []string{
		"A man is eating food.",
		"A man is eating a piece of bread.",
		"A monkey is playing drums.",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d vectors of %d floats\n", len(vecs), len(vecs[0]))
	fmt.Printf("food/bread %.2f, food/drums %.2f\n", embed.Cosine(vecs[0], vecs[1]), embed.Cosine(vecs[0], vecs[2]))
}

// Per-call options adjust one call on top of the Embedder's defaults, like the keyword
// arguments of sentence-transformers' encode.
func ExampleEmbedder_Embed_callOptions() {
	e, err := embed.New(embed.WithModelDir("models/all-MiniLM-L6-v2"))
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	docs := []string{"a long document ...", "another one ..."}
	vecs, err := e.Embed(context.Background(), docs,
		embed.BatchSize(8),      // smaller batches for this call
		embed.MaxSeqLength(512), // read up to 512 tokens instead of 256
		embed.Normalize(false),  // raw mean-pooled vectors
		embed.Progress(func(done, total int) { log.Printf("%d/%d", done, total) }),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(vecs))
}

// Encode gives quantized embeddings and, per text, its token count and whether it was
// truncated.
func ExampleEmbedder_Encode() {
	ctx := context.Background()
	e, err := embed.New(embed.WithModelDir("models/all-MiniLM-L6-v2"))
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	// Calibrate int8 ranges once, on a sample of the corpus; reuse them for every call.
	sample, err := e.Embed(ctx, []string{"a representative sample", "of the corpus", "(hundreds of texts)"})
	if err != nil {
		log.Fatal(err)
	}
	ranges, err := quantize.Calibrate(sample)
	if err != nil {
		log.Fatal(err)
	}
	res, err := e.Encode(ctx, []string{"to be indexed"}, embed.OutputPrecision(quantize.Int8), embed.CalibrationRanges(ranges))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res[0].Int8), res[0].Tokens, res[0].Truncated)

	// Binary embeddings need no calibration: 48 bytes per text, compared by Hamming distance.
	bits, err := e.Encode(ctx, []string{"query", "document"}, embed.OutputPrecision(quantize.UBinary))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(quantize.Hamming(bits[0].Uint8, bits[1].Uint8))
}

// lineSource reads one text per line.
type lineSource struct{ sc *bufio.Scanner }

func (s lineSource) Next() (string, error) {
	if s.sc.Scan() {
		return s.sc.Text(), nil
	}
	if err := s.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

// Stream embeds an input of any size in bounded memory, in input order.
func ExampleEmbedder_Stream() {
	e, err := embed.New(embed.WithModelDir("models/all-MiniLM-L6-v2"))
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	sc := bufio.NewScanner(strings.NewReader("first text\nsecond text\n"))
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	err = e.Stream(context.Background(), lineSource{sc}, func(i int, emb embed.Embedding) error {
		_, err := fmt.Fprintf(w, "%d %.3f\n", i, emb.Float32[0])
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleWithBackend() {
	// Insist on the pure-Go encoder, e.g. for reproducible results across machines.
	e, err := embed.New(embed.WithModelDir("models/all-MiniLM-L6-v2"), embed.WithBackend(embed.CPU), embed.WithMaxSeqLength(128))
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	fmt.Println(e.Backend())
}

func ExampleCosine() {
	fmt.Println(embed.Cosine([]float32{1, 0}, []float32{0.6, 0.8}))
	// Output: 0.6
}
