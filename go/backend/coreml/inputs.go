package coreml

// The converted model comes in two interfaces (python/minilm_convert, --inputs):
//
//   - two inputs, input_ids and attention_mask (the conversion guide's interface). Core ML
//     accepts more than one enumerated-shape input only from macOS 15 / iOS 18 on.
//   - one input, input_ids alone, the default: it loads on macOS 14 / iOS 17. The program
//     derives the mask from the ids: a position is padding where its id is PadID (0), and
//     attended otherwise. A text may itself contain the [PAD] token (Hugging Face tokenizes
//     a literal "[PAD]" to id 0 with mask 1); such a token is passed as LiteralPadID (-1),
//     which the program attends and embeds as id 0 (it gathers max(id, 0)).
//
// SingleInputIDs is the one place that writes that encoding; the Core ML backend and the
// MIL executor (package mil) both use it.
const (
	// PadID is the id of [PAD] in the bert-base-uncased vocabulary, and the id of padding.
	PadID = 0
	// LiteralPadID stands for a [PAD] token inside a text in a single-input model's ids.
	LiteralPadID = -1
)

// SingleInputIDs writes into dst the input_ids of a single-input model for the padded batch
// (ids, mask): PadID where mask is 0, LiteralPadID where the mask is 1 and the id is PadID,
// and the id itself elsewhere. dst, ids and mask have the same length; dst may alias ids.
func SingleInputIDs(dst, ids, mask []int32) {
	_ = dst[len(ids)-1]
	_ = mask[len(ids)-1]
	for i, id := range ids {
		switch {
		case mask[i] == 0:
			dst[i] = PadID
		case id == PadID:
			dst[i] = LiteralPadID
		default:
			dst[i] = id
		}
	}
}
