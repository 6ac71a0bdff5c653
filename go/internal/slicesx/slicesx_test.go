package slicesx

import (
	"math"
	"testing"
)

func TestEqual(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		a, b []float32
		want bool
	}{
		{nil, nil, true},
		{nil, []float32{}, true},
		{[]float32{1, 2}, []float32{1, 2}, true},
		{[]float32{1, 2}, []float32{1, 3}, false},
		{[]float32{1, 2}, []float32{1}, false},
		{[]float32{nan}, []float32{nan}, false},
	} {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%v, %v) = %v", tc.a, tc.b, got)
		}
	}
	if !Equal([]string{"a"}, []string{"a"}) || Equal([]int{1}, []int{2}) {
		t.Error("strings or ints")
	}
}
