// Package vocab reads the WordPiece vocabulary of a Hugging Face tokenizer.json (its
// model.vocab object) with encoding/json alone.
//
// It replaces github.com/sugarme/tokenizer in the runtime import graph: that package's init
// logs "INFO: CachedDir=..." and creates a cache directory under $HOME, exiting the process if
// it cannot, so importing it would make every program that embeds text noisy and fragile. A
// differential test (../sugarmediff, the one importer of sugarme) checks that this package
// reads the same vocabulary as sugarme's WordPiece model and that go/tokenizer's ids for the
// corpus equal those built with sugarme's WordPiece.
package vocab

import (
	"encoding/json"
	"fmt"
)

// Vocab maps each WordPiece token to its id. Ids are non-negative and no two tokens share one.
type Vocab map[string]int32

// UnmarshalJSON decodes a JSON object of token → id, as tokenizer.json's model.vocab holds,
// and rejects an empty object, negative ids and ids given to two tokens.
func (v *Vocab) UnmarshalJSON(data []byte) error {
	var m map[string]int32
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("vocab: %w", err)
	}
	if len(m) == 0 {
		return fmt.Errorf("vocab: empty")
	}
	seen := make(map[int32]string, len(m))
	for tok, id := range m {
		if id < 0 {
			return fmt.Errorf("vocab: token %q has negative id %d", tok, id)
		}
		if other, dup := seen[id]; dup {
			if other > tok { // report the pair in a stable order: map iteration is random
				other, tok = tok, other
			}
			return fmt.Errorf("vocab: tokens %q and %q share id %d", other, tok, id)
		}
		seen[id] = tok
	}
	*v = m
	return nil
}
