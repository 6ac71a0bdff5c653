package embed_test

import (
	"context"
	"fmt"
	"log"

	"github.com/minilm-coreml/minilm/go/embed"
)

// The examples need the model files: they read $MINILM_MODEL_DIR, so they are compiled but
// not run by `go test`.

func ExampleNew() {
	// Weights from $MINILM_MODEL_DIR; Core ML on a Mac given $MINILM_COREML_MODEL, else CPU.
	e, err := embed.New()
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

func ExampleWithBackend() {
	// Insist on the pure-Go encoder, e.g. for reproducible results across machines.
	e, err := embed.New(embed.WithBackend(embed.CPU), embed.WithMaxSeqLength(128))
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
