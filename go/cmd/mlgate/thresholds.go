package main

import (
	"fmt"
	"strings"
)

// Thresholds are the pass criteria of one compression class.
type Thresholds struct {
	MinCos     float64 `json:"min_cosine"`
	MeanCos    float64 `json:"mean_cosine"`
	MaxDrop    float64 `json:"max_spearman_drop"`
	NaNAllowed bool    `json:"nan_allowed"`
}

// classOf maps a variant name (package metadata minilm.variant) to its threshold class.
func classOf(variant string) string {
	v := strings.ToLower(variant)
	switch {
	case strings.Contains(v, "w8a8"):
		return "w8a8"
	case strings.Contains(v, "int4"), strings.Contains(v, "4bit"), strings.Contains(v, "palettiz"):
		return "4bit"
	case strings.Contains(v, "w8"), strings.Contains(v, "int8"):
		return "int8"
	}
	return "fp16"
}

// thresholdsFor returns the criteria of a class; see README.md for the measurements.
func thresholdsFor(class string, fp16 bool) (Thresholds, bool) {
	switch class {
	case "fp16":
		return Thresholds{MinCos: 0.999, MeanCos: 0.9999, MaxDrop: 0.002}, true
	case "int8":
		return Thresholds{MinCos: 0.99, MeanCos: 0.998, MaxDrop: 0.005}, true
	case "4bit":
		return Thresholds{MinCos: 0.85, MeanCos: 0.95, MaxDrop: 0.03}, true
	case "w8a8":
		return Thresholds{MinCos: 0.95, MeanCos: 0.99, MaxDrop: 0.01}, true
	}
	return Thresholds{}, false
}

// check lists the criteria r fails.
func (t Thresholds) check(r *Result) []string {
	var f []string
	s := r.Scores
	if s.NonFinite > 0 && !t.NaNAllowed {
		f = append(f, fmt.Sprintf("%d NaN/Inf hidden-state values", s.NonFinite))
	}
	if !(float64(s.MinCos) >= t.MinCos) {
		f = append(f, fmt.Sprintf("min cosine %.6f < %.4f (text %d)", s.MinCos, t.MinCos, s.MinCosText))
	}
	if !(float64(s.MeanCos) >= t.MeanCos) {
		f = append(f, fmt.Sprintf("mean cosine %.6f < %.4f", s.MeanCos, t.MeanCos))
	}
	if !(float64(r.DeltaSpearman) >= -t.MaxDrop) {
		f = append(f, fmt.Sprintf("STS-B Spearman %.4f is %.4f below the float32 reference %.4f (max drop %.4f)", s.Spearman, -r.DeltaSpearman, r.RefSpearman, t.MaxDrop))
	}
	return f
}
