package plan

import (
	"errors"
	"fmt"
	"sort"
)

// DefaultCallCost is the cost the planner charges for each batch, in token slots: roughly
// what a backend's fixed per-call overhead is worth in padded compute. It keeps the planner
// from splitting batches to save a handful of padding slots, while still splitting off a
// long text instead of padding many short texts to its length.
const DefaultCallCost = 64

// Batch is one group of texts that run together in a single padded shape.
type Batch struct {
	// Shape is the padded shape the batch runs in; Shape.Batch may exceed len(Indices).
	Shape Shape
	// Indices are the positions of the batch's texts in the planner's input, one per row,
	// shortest first.
	Indices []int
}

// Planner cuts texts into batches for one backend.
type Planner struct {
	// Shapes is the set of shapes the backend accepts.
	Shapes ShapeSet
	// MaxBatch caps the rows of a batch below Shapes.MaxBatch(); 0 means no extra cap.
	MaxBatch int
	// CallCost is the cost of one batch in token slots; 0 means DefaultCallCost and a
	// negative value means batches are free (only padding counts).
	CallCost int
}

// Plan groups texts with the given token lengths using the shapes of one backend, with at
// most maxBatch rows per batch (0: as many as the shapes allow). See Planner.Plan.
func Plan(lengths []int, maxBatch int, shapes ShapeSet) ([]Batch, error) {
	return Planner{Shapes: shapes, MaxBatch: maxBatch}.Plan(lengths)
}

// Plan groups texts with the given token lengths into batches.
//
// Texts are sorted by length (stably, so equal lengths keep their input order) and cut into
// runs of consecutive texts; each run is padded to the smallest allowed shape that holds it.
// The cut minimizes the total cost, the padded token slots of every batch plus CallCost per
// batch, by dynamic programming over the sorted texts. Sorting first means a short text is
// padded only to the length of similar texts, never to the model's maximum; and since shapes
// that grow in rows or sequence never get cheaper, some optimal plan always consists of such
// runs. Every text appears in exactly one batch.
//
// Plan returns an error, never panics, if a length is negative or no allowed shape holds a
// text.
func (p Planner) Plan(lengths []int) ([]Batch, error) {
	if p.Shapes == nil {
		return nil, errors.New("plan: no shape set")
	}
	if p.MaxBatch < 0 {
		return nil, fmt.Errorf("plan: maximum batch %d is negative", p.MaxBatch)
	}
	maxRows := p.Shapes.MaxBatch()
	if p.MaxBatch > 0 && p.MaxBatch < maxRows {
		maxRows = p.MaxBatch
	}
	if maxRows < 1 {
		return nil, fmt.Errorf("plan: shape set %v allows no rows", p.Shapes)
	}
	callCost := p.CallCost
	switch {
	case callCost == 0:
		callCost = DefaultCallCost
	case callCost < 0:
		callCost = 0
	}

	order := make([]int, len(lengths))
	for i, n := range lengths {
		if n < 0 {
			return nil, fmt.Errorf("plan: text %d has negative length %d", i, n)
		}
		if _, ok := p.Shapes.Fit(1, n); !ok {
			return nil, fmt.Errorf("plan: text %d has %d tokens, more than any allowed shape holds (max sequence %d)",
				i, n, p.Shapes.MaxSeq())
		}
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lengths[order[a]] < lengths[order[b]] })

	// best[i] is the cheapest plan for the first i sorted texts; its last batch holds the
	// sorted texts from[i] .. i-1 in shape[i]. Ties prefer fewer batches.
	n := len(order)
	type cell struct {
		cost, batches, from int
		shape               Shape
		ok                  bool
	}
	best := make([]cell, n+1)
	best[0].ok = true
	for i := 1; i <= n; i++ {
		seq := lengths[order[i-1]] // the longest text of any run ending at i
		for j := i - 1; j >= 0 && i-j <= maxRows; j-- {
			if !best[j].ok {
				continue
			}
			shape, ok := p.Shapes.Fit(i-j, seq)
			if !ok {
				continue
			}
			c := cell{cost: best[j].cost + shape.Tokens() + callCost, batches: best[j].batches + 1, from: j, shape: shape, ok: true}
			if !best[i].ok || c.cost < best[i].cost || (c.cost == best[i].cost && c.batches < best[i].batches) {
				best[i] = c
			}
		}
		if !best[i].ok {
			return nil, fmt.Errorf("plan: no allowed shape holds text %d (%d tokens) with its neighbours", order[i-1], seq)
		}
	}

	batches := make([]Batch, best[n].batches)
	for i, k := n, len(batches)-1; i > 0; i, k = best[i].from, k-1 {
		batches[k] = Batch{Shape: best[i].shape, Indices: append([]int(nil), order[best[i].from:i]...)}
	}
	return batches, nil
}

// Stats describes how much padding a plan costs.
type Stats struct {
	Texts   int // texts planned
	Batches int // batches, i.e. backend calls
	Tokens  int // real tokens
	Slots   int // padded token slots, the sum of every batch's Shape.Tokens()
}

// Waste is the fraction of token slots that hold padding, from 0 to 1.
func (s Stats) Waste() float64 {
	if s.Slots == 0 {
		return 0
	}
	return float64(s.Slots-s.Tokens) / float64(s.Slots)
}

// String implements fmt.Stringer.
func (s Stats) String() string {
	return fmt.Sprintf("%d texts in %d batches: %d tokens in %d slots (%.1f%% padding)",
		s.Texts, s.Batches, s.Tokens, s.Slots, 100*s.Waste())
}

// Measure returns the padding statistics of batches planned for texts of the given lengths.
func Measure(lengths []int, batches []Batch) Stats {
	s := Stats{Batches: len(batches)}
	for _, b := range batches {
		s.Slots += b.Shape.Tokens()
		for _, i := range b.Indices {
			s.Texts++
			s.Tokens += lengths[i]
		}
	}
	return s
}
