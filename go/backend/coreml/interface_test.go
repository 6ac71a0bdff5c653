package coreml

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/plan"
)

func TestInterfaceOf(t *testing.T) {
	tests := []struct {
		inputs  []string
		want    Interface
		wantErr string
	}{
		{[]string{"attention_mask", "input_ids"}, IDsAndMask, ""},
		{[]string{"input_ids"}, IDsOnly, ""},
		{[]string{"input_ids", "attention_mask", "token_type_ids"}, 0, "model inputs [attention_mask, input_ids, token_type_ids]"},
		{[]string{"attention_mask"}, 0, "want input_ids and attention_mask, or input_ids alone"},
		{nil, 0, "model inputs []"},
	}
	for _, tt := range tests {
		got, err := InterfaceOf(tt.inputs)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, "%v", tt.inputs)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
	require.Equal(t, []string{"input_ids"}, IDsOnly.Names())
	require.Equal(t, []string{"input_ids", "attention_mask"}, IDsAndMask.Names())
}

// TestSingleInputModelGetsEncodedIDsAndNoMask: a single-input model receives input_ids
// encoded with SingleInputIDs (padding PadID, a literal [PAD] inside a text LiteralPadID) and
// no attention_mask; a two-input model receives ids and mask unchanged.
func TestSingleInputModelGetsEncodedIDsAndNoMask(t *testing.T) {
	shape := plan.Shape{Batch: 2, Seq: 6}
	in := batch(shape, []int{5, 3})
	// Row 0: [CLS] 1000+... [PAD] ... [SEP]: a literal [PAD] token (id 0, mask 1) at position 2.
	in.IDs[2] = PadID
	target := plan.Shape{Batch: 8, Seq: 32}
	set := plan.Enumerated{target}

	single := &fakePredictor{}
	b := newTestBackendIface(t, IDsOnly, set, single)
	require.Equal(t, IDsOnly, b.Interface())
	forward(t, b, in)
	calls := single.callList()
	require.Len(t, calls, 1)
	c := calls[0]
	require.Nil(t, c.mask, "a single-input model gets no attention_mask")
	L := target.Seq
	require.Equal(t, []int32{clsTokenID, 1001, LiteralPadID, 1003, sepTokenID, PadID}, c.ids[0:6], "row 0")
	require.Equal(t, []int32{clsTokenID, 1008, sepTokenID, PadID}, c.ids[L:L+4], "row 1")
	for i, id := range c.ids {
		r, tok := i/L, i%L
		switch {
		case r == 0 && tok < 5, r == 1 && tok < 3:
			require.NotEqual(t, int32(PadID), id, "real token %d,%d", r, tok)
		case r >= 2 && tok < 2: // padding rows hold the empty text [CLS] [SEP]
			require.Equal(t, []int32{clsTokenID, sepTokenID}[tok], id, "padding row %d", r)
		default:
			require.Equal(t, int32(PadID), id, "padding at %d,%d", r, tok)
		}
	}

	// The same batch on a two-input model: the literal [PAD] stays id 0 with mask 1.
	two := &fakePredictor{}
	b2 := newTestBackend(t, set, two)
	forward(t, b2, in)
	c2 := two.callList()[0]
	require.Equal(t, int32(PadID), c2.ids[2])
	require.Equal(t, int32(1), c2.mask[2])
	require.Equal(t, int32(0), c2.mask[5])

	// Prewarm on a single-input model sends encoded ids and no mask as well.
	warm := &fakePredictor{}
	b3 := newTestBackendIface(t, IDsOnly, set, warm)
	for r := range b3.Prewarm(context.Background()) {
		require.NoError(t, r.Err)
	}
	wc := warm.callList()
	require.Len(t, wc, 1)
	require.Nil(t, wc[0].mask)
	require.Equal(t, []int32{clsTokenID, sepTokenID, PadID}, wc[0].ids[0:3])
}

func TestNewBackendRejectsUnknownInterface(t *testing.T) {
	_, err := newBackend("x", plan.Enumerated{{Batch: 1, Seq: 8}}, HiddenSize, 0, []predictor{&fakePredictor{}})
	require.ErrorContains(t, err, "invalid model")
}
