package coreml

import (
	"fmt"
	"sort"

	"github.com/minilm-coreml/minilm/go/plan"
)

// This file is the one home of the decoding of Core ML shape constraints into the planner's
// shape sets (plan.Enumerated, plan.Ranges). The darwin backend feeds it what
// MLMultiArrayConstraint reports; the MIL executor (package mil) can feed it what the
// .mlpackage's protobuf declares.

// ShapeConstraint is what a model description says about one (N, L) input, decoded from
// MLMultiArrayShapeConstraint (or the ArrayFeatureType of Model.proto).
type ShapeConstraint struct {
	// Name is the input's name, for error messages.
	Name string
	// Kind is "enumerated", "range" or "fixed".
	Kind string
	// Enumerated holds each allowed shape as [N, L] (Kind "enumerated").
	Enumerated [][]int
	// Ranges holds [min, max] per dimension (Kind "range"). A max below 0 means unbounded.
	Ranges [][2]int
	// Fixed is the only shape (Kind "fixed"; also the default shape of the other kinds).
	Fixed []int
}

// Caps for unbounded range dimensions. mlprogram inputs are always bounded; the caps keep a
// malformed description from producing absurd shapes. 512 is the model's position limit
// (max_position_embeddings).
const (
	UnboundedBatchCap = 64
	UnboundedSeqCap   = 512
)

// nsRangeUnbounded: an NSRange length at least this large means "no upper bound". Core ML
// encodes an unbounded dimension with a length near NSIntegerMax (its own Swift overlay clamps
// location+length on overflow, see rangeFromNSRange).
const nsRangeUnbounded = 1 << 40

// rangeFromNSRange decodes one entry of MLMultiArrayShapeConstraint.sizeRangeForDimension
// into [min, max] (max -1 when unbounded).
//
// An NSRange is half-open: it holds location ... location+length-1 (Foundation's NSRange.h:
// NSMaxRange(r) = location+length is "the next location after the range";
// NSLocationInRange(x, r) is location <= x < location+length). Apple's docs for
// sizeRangeForDimension say only "the allowable range for a dimension"; Core ML's own Swift
// overlay (decompiled, CoreML.framework: the Swift conversion of sizeRangeForDimension) turns
// each NSRange into the Swift range location ..< location+length, clamping an overflowing
// sum to Int.max. So a fixed size n is {n, 1}, and RangeDim(1, 64) is {1, 64}. (Some third-
// party code reads length as the maximum; with lower bound 1 the two readings differ by one,
// which is why this is tested.)
func rangeFromNSRange(location, length uint64) [2]int {
	lo := int(location)
	if length == 0 {
		return [2]int{lo, lo - 1} // empty; constraintShapes rejects it
	}
	if length >= nsRangeUnbounded || location+length < location {
		return [2]int{lo, -1}
	}
	return [2]int{lo, int(location + length - 1)}
}

// ShapeSetOf builds the shape set of a model from the shape constraints of its (N, L) int32
// inputs: input_ids alone, or input_ids and attention_mask. Inputs must agree: enumerated
// shapes keep only the shapes every input lists (Core ML pairs them by index, so an unpaired
// shape would not run), ranges intersect, and an enumerated list meeting a range keeps the
// listed shapes inside the range. Enumerated and fixed shapes give a plan.Enumerated sorted
// smallest first (token slots, then sequence); ranges give a plan.Ranges with unbounded
// dimensions capped at UnboundedBatchCap and UnboundedSeqCap.
func ShapeSetOf(constraints ...ShapeConstraint) (plan.ShapeSet, error) {
	if len(constraints) == 0 {
		return nil, fmt.Errorf("coreml: no input shape constraints")
	}
	acc, err := constraintShapes(constraints[0])
	if err != nil {
		return nil, err
	}
	for _, c := range constraints[1:] {
		next, err := constraintShapes(c)
		if err != nil {
			return nil, err
		}
		if acc, err = intersect(acc, next, constraints[0].Name, c.Name); err != nil {
			return nil, err
		}
	}
	if acc.list == nil {
		return acc.rng, nil
	}
	return sortedEnumerated(acc.list), nil
}

// inputShapes is one input's allowed shapes: a list (enumerated or fixed), or a range.
type inputShapes struct {
	list []plan.Shape
	rng  plan.Ranges // when list is nil
}

func inRange(s plan.Shape, r plan.Ranges) bool {
	return s.Batch >= r.BatchMin && s.Batch <= r.BatchMax && s.Seq >= r.SeqMin && s.Seq <= r.SeqMax
}

func intersect(a, b inputShapes, aName, bName string) (inputShapes, error) {
	switch {
	case a.list != nil && b.list != nil:
		inB := make(map[plan.Shape]bool, len(b.list))
		for _, s := range b.list {
			inB[s] = true
		}
		var both []plan.Shape
		for _, s := range a.list {
			if inB[s] {
				both = append(both, s)
			}
		}
		if len(both) == 0 {
			return inputShapes{}, fmt.Errorf("coreml: %s allows %v but %s allows %v: no shape in common", aName, a.list, bName, b.list)
		}
		return inputShapes{list: both}, nil
	case a.list == nil && b.list == nil:
		r := plan.Ranges{
			BatchMin: maxInt(a.rng.BatchMin, b.rng.BatchMin), BatchMax: minInt(a.rng.BatchMax, b.rng.BatchMax),
			SeqMin: maxInt(a.rng.SeqMin, b.rng.SeqMin), SeqMax: minInt(a.rng.SeqMax, b.rng.SeqMax),
		}
		if r.BatchMin > r.BatchMax || r.SeqMin > r.SeqMax {
			return inputShapes{}, fmt.Errorf("coreml: input ranges %v (%s) and %v (%s) do not overlap", a.rng, aName, b.rng, bName)
		}
		return inputShapes{rng: r}, nil
	default:
		list, rng := a.list, b.rng
		if list == nil {
			list, rng = b.list, a.rng
		}
		var both []plan.Shape
		for _, s := range list {
			if inRange(s, rng) {
				both = append(both, s)
			}
		}
		if len(both) == 0 {
			return inputShapes{}, fmt.Errorf("coreml: enumerated shapes %v lie outside %v", list, rng)
		}
		return inputShapes{list: both}, nil
	}
}

func constraintShapes(c ShapeConstraint) (inputShapes, error) {
	name := c.Name
	if name == "" {
		name = "?"
	}
	switch c.Kind {
	case "enumerated":
		if len(c.Enumerated) == 0 {
			return inputShapes{}, fmt.Errorf("coreml: input %s: enumerated shape constraint lists no shapes", name)
		}
		var list []plan.Shape
		for _, dims := range c.Enumerated {
			s, err := shape2(name, dims)
			if err != nil {
				return inputShapes{}, err
			}
			list = append(list, s)
		}
		return inputShapes{list: list}, nil
	case "range":
		if len(c.Ranges) != 2 {
			return inputShapes{}, fmt.Errorf("coreml: input %s: range constraint has %d dimensions, want 2 (batch, seq)", name, len(c.Ranges))
		}
		dim := func(i, limit int) (int, int, error) {
			lo, hi := c.Ranges[i][0], c.Ranges[i][1]
			if hi < 0 {
				hi = limit
			}
			if lo < 1 {
				lo = 1
			}
			if lo > hi {
				return 0, 0, fmt.Errorf("coreml: input %s: dimension %d has empty range %v", name, i, c.Ranges[i])
			}
			return lo, hi, nil
		}
		bl, bh, err := dim(0, UnboundedBatchCap)
		if err != nil {
			return inputShapes{}, err
		}
		sl, sh, err := dim(1, UnboundedSeqCap)
		if err != nil {
			return inputShapes{}, err
		}
		return inputShapes{rng: plan.Ranges{BatchMin: bl, BatchMax: bh, SeqMin: sl, SeqMax: sh}}, nil
	case "fixed", "":
		s, err := shape2(name, c.Fixed)
		if err != nil {
			return inputShapes{}, err
		}
		return inputShapes{list: []plan.Shape{s}}, nil
	}
	return inputShapes{}, fmt.Errorf("coreml: input %s: unknown shape constraint kind %q", name, c.Kind)
}

func shape2(name string, dims []int) (plan.Shape, error) {
	if len(dims) != 2 || dims[0] < 1 || dims[1] < 1 {
		return plan.Shape{}, fmt.Errorf("coreml: input %s: shape %v is not a valid (batch, seq) shape", name, dims)
	}
	return plan.Shape{Batch: dims[0], Seq: dims[1]}, nil
}

// sortedEnumerated removes duplicates and orders shapes by token slots, then sequence, then
// batch: the order Prewarm runs them in.
func sortedEnumerated(list []plan.Shape) plan.Enumerated {
	seen := make(map[plan.Shape]bool, len(list))
	out := make(plan.Enumerated, 0, len(list))
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Tokens() != b.Tokens() {
			return a.Tokens() < b.Tokens()
		}
		if a.Seq != b.Seq {
			return a.Seq < b.Seq
		}
		return a.Batch < b.Batch
	})
	return out
}

// warmShapes lists the shapes Prewarm runs when the caller names none: every enumerated
// shape, smallest first; for ranges the smallest and largest batch at each power-of-two
// sequence length in range, plus the longest sequence.
func warmShapes(set plan.ShapeSet) []plan.Shape {
	switch s := set.(type) {
	case plan.Enumerated:
		return []plan.Shape(sortedEnumerated(s))
	case plan.Ranges:
		return rangeWarmList(s)
	}
	if sh, ok := set.Fit(set.MaxBatch(), set.MaxSeq()); ok {
		return []plan.Shape{sh}
	}
	return nil
}

func rangeWarmList(r plan.Ranges) []plan.Shape {
	bmin, smin := maxInt(r.BatchMin, 1), maxInt(r.SeqMin, 1)
	var seqs []int
	for s := 1; s < r.SeqMax; s *= 2 {
		if s >= smin {
			seqs = append(seqs, s)
		}
	}
	seqs = append(seqs, r.SeqMax)
	var out []plan.Shape
	for _, s := range seqs {
		out = append(out, plan.Shape{Batch: bmin, Seq: s})
		if r.BatchMax != bmin {
			out = append(out, plan.Shape{Batch: r.BatchMax, Seq: s})
		}
	}
	return out
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
