package plan

import (
	"fmt"
	"sort"
)

// Ranges accepts every shape whose batch lies in [BatchMin, BatchMax] and whose sequence
// lies in [SeqMin, SeqMax]. It describes engines with dynamic shapes, such as the CPU
// encoder: a batch is padded to its longest text, but to at least SeqMin tokens and at least
// BatchMin rows. Zero minimums mean 1.
//
// (The fields are not called MaxBatch and MaxSeq because those are ShapeSet's methods.)
type Ranges struct {
	BatchMin, BatchMax int
	SeqMin, SeqMax     int
}

// Fit implements ShapeSet.
func (r Ranges) Fit(rows, seq int) (Shape, bool) {
	if rows > r.BatchMax || seq > r.SeqMax {
		return Shape{}, false
	}
	return Shape{Batch: atLeast(rows, r.BatchMin, 1), Seq: atLeast(seq, r.SeqMin, 1)}, true
}

// MaxBatch implements ShapeSet.
func (r Ranges) MaxBatch() int { return r.BatchMax }

// MaxSeq implements ShapeSet.
func (r Ranges) MaxSeq() int { return r.SeqMax }

// Validate reports whether the ranges are non-empty.
func (r Ranges) Validate() error {
	if r.BatchMax < 1 || r.SeqMax < 1 {
		return fmt.Errorf("plan: ranges %+v: maximum batch and sequence must be at least 1", r)
	}
	if r.BatchMin > r.BatchMax || r.SeqMin > r.SeqMax {
		return fmt.Errorf("plan: ranges %+v: a minimum exceeds its maximum", r)
	}
	return nil
}

// String implements fmt.Stringer.
func (r Ranges) String() string {
	return fmt.Sprintf("batch %d..%d × seq %d..%d",
		atLeast(r.BatchMin, 1), r.BatchMax, atLeast(r.SeqMin, 1), r.SeqMax)
}

// Enumerated accepts exactly the listed shapes. It describes engines compiled for a fixed
// set of shapes, such as a Core ML model with enumerated input shapes.
//
// Fit picks the listed shape with the fewest token slots that covers the request; ties go to
// the shorter sequence, then to the order of the list.
type Enumerated []Shape

// Grid returns every combination of the given batch sizes and sequence lengths, e.g.
// Grid([]int{1, 8, 16, 32, 64}, []int{16, 32, 64, 128, 256, 512}).
func Grid(batches, seqs []int) Enumerated {
	out := make(Enumerated, 0, len(batches)*len(seqs))
	for _, b := range batches {
		for _, s := range seqs {
			out = append(out, Shape{Batch: b, Seq: s})
		}
	}
	return out
}

// Fit implements ShapeSet.
func (e Enumerated) Fit(rows, seq int) (Shape, bool) {
	var best Shape
	found := false
	for _, s := range e {
		if s.Batch < rows || s.Seq < seq || s.Batch < 1 || s.Seq < 1 {
			continue
		}
		if !found || s.Tokens() < best.Tokens() || (s.Tokens() == best.Tokens() && s.Seq < best.Seq) {
			best, found = s, true
		}
	}
	return best, found
}

// MaxBatch implements ShapeSet.
func (e Enumerated) MaxBatch() int {
	m := 0
	for _, s := range e {
		if s.Batch > m && s.Seq >= 1 {
			m = s.Batch
		}
	}
	return m
}

// MaxSeq implements ShapeSet.
func (e Enumerated) MaxSeq() int {
	m := 0
	for _, s := range e {
		if s.Seq > m && s.Batch >= 1 {
			m = s.Seq
		}
	}
	return m
}

// Validate reports whether the list holds at least one usable shape and no invalid one.
func (e Enumerated) Validate() error {
	if len(e) == 0 {
		return fmt.Errorf("plan: no enumerated shapes")
	}
	for _, s := range e {
		if s.Batch < 1 || s.Seq < 1 {
			return fmt.Errorf("plan: enumerated shape %dx%d is empty", s.Batch, s.Seq)
		}
	}
	return nil
}

// String implements fmt.Stringer.
func (e Enumerated) String() string {
	s := append(Enumerated(nil), e...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].Batch != s[j].Batch {
			return s[i].Batch < s[j].Batch
		}
		return s[i].Seq < s[j].Seq
	})
	return fmt.Sprint([]Shape(s))
}

// String implements fmt.Stringer.
func (s Shape) String() string { return fmt.Sprintf("%dx%d", s.Batch, s.Seq) }

// atLeast returns the largest of v and the lower bounds.
func atLeast(v int, bounds ...int) int {
	for _, b := range bounds {
		if b > v {
			v = b
		}
	}
	return v
}
