// Command embedtwo is the smallest program an importer of go/embed writes: it embeds two
// texts and prints their cosine similarity. The silent-import test runs it under several
// HOME settings to check that importing go/embed has no side effect.
//
// Usage:
//
//	embedtwo            print usage on stdout and exit 0 (start-up alone)
//	embedtwo MODEL_DIR  embed two texts with the model in MODEL_DIR
package main

import (
	"context"
	"fmt"
	"math"
	"os"

	"github.com/minilm-coreml/minilm/go/embed"
)

// Texts are the two texts embedded.
var texts = []string{"A man is eating food.", "A man is eating a piece of bread."}

func main() {
	if len(os.Args) != 2 {
		fmt.Println("usage: embedtwo MODEL_DIR")
		return
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "embedtwo:", err)
		os.Exit(1)
	}
}

func run(modelDir string) error {
	e, err := embed.New(embed.WithModelDir(modelDir))
	if err != nil {
		return err
	}
	defer e.Close()
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		return err
	}
	if len(vecs) != len(texts) {
		return fmt.Errorf("got %d vectors for %d texts", len(vecs), len(texts))
	}
	var dot, n0, n1 float64
	for i := range vecs[0] {
		a, b := float64(vecs[0][i]), float64(vecs[1][i])
		dot, n0, n1 = dot+a*b, n0+a*a, n1+b*b
	}
	fmt.Printf("vectors=%d dim=%d cosine=%.4f\n", len(vecs), len(vecs[0]), dot/math.Sqrt(n0*n1))
	return nil
}
