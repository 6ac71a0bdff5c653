package coreml

import (
	"fmt"
	"sort"

	"github.com/minilm-coreml/minilm/go/plan"
)

// EnumeratedShapes is the shape set of a model converted with ct.EnumeratedShapes: only the
// listed (batch, seq) shapes are accepted.
type EnumeratedShapes struct {
	list []plan.Shape // sorted by tokens, then seq, then batch
}

// NewEnumeratedShapes returns the set of the given shapes (duplicates removed).
func NewEnumeratedShapes(shapes []plan.Shape) (*EnumeratedShapes, error) {
	if len(shapes) == 0 {
		return nil, fmt.Errorf("coreml: empty shape list")
	}
	seen := make(map[plan.Shape]bool, len(shapes))
	list := make([]plan.Shape, 0, len(shapes))
	for _, s := range shapes {
		if s.Batch < 1 || s.Seq < 1 {
			return nil, fmt.Errorf("coreml: invalid shape %dx%d", s.Batch, s.Seq)
		}
		if !seen[s] {
			seen[s] = true
			list = append(list, s)
		}
	}
	sort.Slice(list, func(i, j int) bool { return shapeLess(list[i], list[j]) })
	return &EnumeratedShapes{list: list}, nil
}

// shapeLess orders shapes by token slots; among equal slots the shorter sequence comes first,
// since attention cost grows with the square of the sequence length.
func shapeLess(a, b plan.Shape) bool {
	if a.Tokens() != b.Tokens() {
		return a.Tokens() < b.Tokens()
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.Batch < b.Batch
}

// Fit implements plan.ShapeSet.
func (e *EnumeratedShapes) Fit(rows, seq int) (plan.Shape, bool) {
	for _, s := range e.list {
		if s.Batch >= rows && s.Seq >= seq {
			return s, true
		}
	}
	return plan.Shape{}, false
}

// MaxBatch implements plan.ShapeSet.
func (e *EnumeratedShapes) MaxBatch() int {
	m := 0
	for _, s := range e.list {
		if s.Batch > m {
			m = s.Batch
		}
	}
	return m
}

// MaxSeq implements plan.ShapeSet.
func (e *EnumeratedShapes) MaxSeq() int {
	m := 0
	for _, s := range e.list {
		if s.Seq > m {
			m = s.Seq
		}
	}
	return m
}

// List returns the shapes, smallest first.
func (e *EnumeratedShapes) List() []plan.Shape {
	return append([]plan.Shape(nil), e.list...)
}

func (e *EnumeratedShapes) String() string { return fmt.Sprintf("enumerated%v", e.list) }

// RangeShapes is the shape set of a model converted with ct.RangeDim: every batch in
// [BatchMin, BatchMax] combined with every seq in [SeqMin, SeqMax].
type RangeShapes struct {
	BatchMin, BatchMax int
	SeqMin, SeqMax     int
}

// Fit implements plan.ShapeSet.
func (r RangeShapes) Fit(rows, seq int) (plan.Shape, bool) {
	if rows > r.BatchMax || seq > r.SeqMax {
		return plan.Shape{}, false
	}
	s := plan.Shape{Batch: rows, Seq: seq}
	if s.Batch < r.BatchMin {
		s.Batch = r.BatchMin
	}
	if s.Seq < r.SeqMin {
		s.Seq = r.SeqMin
	}
	return s, true
}

// MaxBatch implements plan.ShapeSet.
func (r RangeShapes) MaxBatch() int { return r.BatchMax }

// MaxSeq implements plan.ShapeSet.
func (r RangeShapes) MaxSeq() int { return r.SeqMax }

// WarmList returns the shapes Prewarm runs by default: the smallest and largest batch at
// each power-of-two sequence length in range, plus SeqMax.
func (r RangeShapes) WarmList() []plan.Shape {
	var seqs []int
	for s := 1; s < r.SeqMax; s *= 2 {
		if s >= r.SeqMin {
			seqs = append(seqs, s)
		}
	}
	seqs = append(seqs, r.SeqMax)
	var out []plan.Shape
	for _, s := range seqs {
		out = append(out, plan.Shape{Batch: r.BatchMin, Seq: s})
		if r.BatchMax != r.BatchMin {
			out = append(out, plan.Shape{Batch: r.BatchMax, Seq: s})
		}
	}
	return out
}

func (r RangeShapes) String() string {
	return fmt.Sprintf("range[batch %d..%d, seq %d..%d]", r.BatchMin, r.BatchMax, r.SeqMin, r.SeqMax)
}

// warmShapes lists the shapes Prewarm runs when the caller names none.
func warmShapes(set plan.ShapeSet) []plan.Shape {
	switch s := set.(type) {
	case *EnumeratedShapes:
		return s.List()
	case RangeShapes:
		return s.WarmList()
	case interface{ List() []plan.Shape }:
		return s.List()
	}
	if sh, ok := set.Fit(set.MaxBatch(), set.MaxSeq()); ok {
		return []plan.Shape{sh}
	}
	return nil
}

// ShapeConstraint is what the model description says about one (N, L) input, decoded from
// MLMultiArrayShapeConstraint.
type ShapeConstraint struct {
	// Kind is "enumerated", "range" or "fixed".
	Kind string
	// Enumerated holds each allowed shape as [N, L] (Kind "enumerated").
	Enumerated [][]int
	// Ranges holds [min, max] per dimension (Kind "range"). A max below 0 means unbounded.
	Ranges [][2]int
	// Fixed is the only shape (Kind "fixed"; also the default shape of the other kinds).
	Fixed []int
}

// maxUnboundedDim caps an unbounded range dimension. mlprogram models are always bounded; the
// cap only keeps a malformed description from producing absurd shapes.
const maxUnboundedDim = 1 << 16

// shapeSetFromConstraints builds the shape set from the constraints of input_ids and
// attention_mask. The two inputs must agree: for enumerated shapes only shapes listed for both
// inputs are kept (Core ML pairs them by index, so an unpaired shape would not run).
func shapeSetFromConstraints(ids, mask ShapeConstraint) (plan.ShapeSet, error) {
	a, err := constraintShapes(InputIDsName, ids)
	if err != nil {
		return nil, err
	}
	b, err := constraintShapes(AttentionMaskName, mask)
	if err != nil {
		return nil, err
	}
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
			return nil, fmt.Errorf("coreml: %s allows %v but %s allows %v: no shape in common", InputIDsName, a.list, AttentionMaskName, b.list)
		}
		return NewEnumeratedShapes(both)
	case a.list == nil && b.list == nil:
		r := RangeShapes{
			BatchMin: maxInt(a.rng.BatchMin, b.rng.BatchMin), BatchMax: minInt(a.rng.BatchMax, b.rng.BatchMax),
			SeqMin: maxInt(a.rng.SeqMin, b.rng.SeqMin), SeqMax: minInt(a.rng.SeqMax, b.rng.SeqMax),
		}
		if r.BatchMin > r.BatchMax || r.SeqMin > r.SeqMax {
			return nil, fmt.Errorf("coreml: input ranges %v and %v do not overlap", a.rng, b.rng)
		}
		return r, nil
	default:
		// One enumerated, one range: keep the listed shapes the range accepts.
		list, rng := a.list, b.rng
		if list == nil {
			list, rng = b.list, a.rng
		}
		var both []plan.Shape
		for _, s := range list {
			if s.Batch >= rng.BatchMin && s.Batch <= rng.BatchMax && s.Seq >= rng.SeqMin && s.Seq <= rng.SeqMax {
				both = append(both, s)
			}
		}
		if len(both) == 0 {
			return nil, fmt.Errorf("coreml: enumerated shapes %v lie outside %v", list, rng)
		}
		return NewEnumeratedShapes(both)
	}
}

type inputShapes struct {
	list []plan.Shape // enumerated or fixed
	rng  RangeShapes  // when list is nil
}

func constraintShapes(name string, c ShapeConstraint) (inputShapes, error) {
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
		dim := func(i int) (int, int, error) {
			lo, hi := c.Ranges[i][0], c.Ranges[i][1]
			if hi < 0 || hi > maxUnboundedDim {
				hi = maxUnboundedDim
			}
			if lo < 1 {
				lo = 1
			}
			if lo > hi {
				return 0, 0, fmt.Errorf("coreml: input %s: dimension %d has empty range %v", name, i, c.Ranges[i])
			}
			return lo, hi, nil
		}
		bl, bh, err := dim(0)
		if err != nil {
			return inputShapes{}, err
		}
		sl, sh, err := dim(1)
		if err != nil {
			return inputShapes{}, err
		}
		return inputShapes{rng: RangeShapes{BatchMin: bl, BatchMax: bh, SeqMin: sl, SeqMax: sh}}, nil
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
