package cpu

import "testing"

func TestParsePrecision(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Precision
		ok   bool
	}{
		{"float32", Float32, true}, {"FP32", Float32, true}, {"bf16", BF16, true},
		{"bfloat16", BF16, true}, {"int8", Int8, true}, {"int4", 0, false}, {"", 0, false},
	} {
		got, err := ParsePrecision(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePrecision(%q) = %v, %v", tt.in, got, err)
		}
		if tt.ok {
			if back, err := ParsePrecision(got.String()); err != nil || back != got {
				t.Errorf("ParsePrecision(%v.String()) = %v, %v", got, back, err)
			}
		}
	}
	if s := Precision(7).String(); s != "precision(7)" {
		t.Errorf("Precision(7).String() = %q", s)
	}
}
