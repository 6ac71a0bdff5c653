package coreml

import (
	"reflect"
	"testing"
)

func TestSingleInputIDs(t *testing.T) {
	tests := []struct {
		name            string
		ids, mask, want []int32
	}{
		{"plain text, padded", []int32{101, 7592, 102, 0, 0}, []int32{1, 1, 1, 0, 0}, []int32{101, 7592, 102, 0, 0}},
		{"literal [PAD] inside the text", []int32{101, 0, 2088, 102, 0}, []int32{1, 1, 1, 1, 0}, []int32{101, -1, 2088, 102, 0}},
		{"padding whose id is not 0 is still padding", []int32{101, 102, 5, 5}, []int32{1, 1, 0, 0}, []int32{101, 102, 0, 0}},
		{"no padding", []int32{101, 0, 102}, []int32{1, 1, 1}, []int32{101, -1, 102}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]int32, len(tc.ids))
			SingleInputIDs(got, tc.ids, tc.mask)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SingleInputIDs(%v, %v) = %v, want %v", tc.ids, tc.mask, got, tc.want)
			}
			// In place.
			inPlace := append([]int32(nil), tc.ids...)
			SingleInputIDs(inPlace, inPlace, tc.mask)
			if !reflect.DeepEqual(inPlace, tc.want) {
				t.Errorf("in place: %v, want %v", inPlace, tc.want)
			}
		})
	}
}
