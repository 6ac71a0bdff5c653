package tokenizer_test

import (
	"fmt"
	"log"
	"os"

	"github.com/minilm-coreml/minilm/go/tokenizer"
)

func Example() {
	// The model directory (or its tokenizer.json); tests get it from MINILM_MODEL_DIR.
	tok, err := tokenizer.Load(os.Getenv("MINILM_MODEL_DIR"))
	if err != nil {
		log.Fatal(err)
	}
	enc, err := tok.Encode("Héllo, wörld! [MASK] 你好", tokenizer.DefaultMaxLen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(enc.IDs)
	fmt.Println(enc.Mask)

	// Truncation keeps [CLS] and [SEP].
	short, err := tok.Encode("a sentence far longer than four tokens", 4)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(short.IDs)
	// Output:
	// [101 7592 1010 2088 999 103 100 100 102]
	// [1 1 1 1 1 1 1 1 1]
	// [101 1037 6251 102]
}
