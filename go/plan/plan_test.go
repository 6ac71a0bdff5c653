package plan

import (
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// coreMLGrid is the enumerated grid a Core ML model is typically compiled with.
var coreMLGrid = Grid([]int{1, 8, 16, 32, 64}, []int{16, 32, 64, 128, 256, 512})

var cpuRanges = Ranges{BatchMax: 64, SeqMax: 512}

func repeat(n, length int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = length
	}
	return out
}

func TestFit(t *testing.T) {
	tests := []struct {
		name      string
		set       ShapeSet
		rows, seq int
		want      Shape
		wantOK    bool
	}{
		{"ranges pads to longest", cpuRanges, 3, 17, Shape{3, 17}, true},
		{"ranges minimum seq", Ranges{BatchMax: 8, SeqMin: 16, SeqMax: 512}, 2, 5, Shape{2, 16}, true},
		{"ranges minimum batch", Ranges{BatchMin: 4, BatchMax: 8, SeqMax: 512}, 2, 5, Shape{4, 5}, true},
		{"ranges zero length", cpuRanges, 1, 0, Shape{1, 1}, true},
		{"ranges too many rows", cpuRanges, 65, 5, Shape{}, false},
		{"ranges too long", cpuRanges, 1, 513, Shape{}, false},
		{"grid exact", coreMLGrid, 8, 32, Shape{8, 32}, true},
		{"grid rounds up", coreMLGrid, 9, 17, Shape{16, 32}, true},
		{"grid one row", coreMLGrid, 1, 3, Shape{1, 16}, true},
		{"grid full", coreMLGrid, 64, 512, Shape{64, 512}, true},
		{"grid too many rows", coreMLGrid, 65, 16, Shape{}, false},
		{"grid too long", coreMLGrid, 1, 600, Shape{}, false},
		// 8x64 and 16x32 hold the same slots; the shorter sequence wins.
		{"grid tie prefers short seq", Enumerated{{8, 64}, {16, 32}}, 8, 20, Shape{16, 32}, true},
		{"enumerated fewest slots", Enumerated{{64, 16}, {4, 128}, {1, 512}}, 2, 100, Shape{4, 128}, true},
		{"empty enumerated", Enumerated{}, 1, 1, Shape{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.set.Fit(tt.rows, tt.seq)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Fit(%d, %d) = %v, %v; want %v, %v", tt.rows, tt.seq, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"ranges ok", cpuRanges.Validate(), false},
		{"ranges empty", Ranges{}.Validate(), true},
		{"ranges min above max", Ranges{BatchMin: 9, BatchMax: 8, SeqMax: 1}.Validate(), true},
		{"grid ok", coreMLGrid.Validate(), false},
		{"enumerated empty", Enumerated{}.Validate(), true},
		{"enumerated zero shape", Enumerated{{0, 16}}.Validate(), true},
	}
	for _, tt := range tests {
		if (tt.err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.name, tt.err, tt.wantErr)
		}
	}
}

func shapesOf(batches []Batch) []Shape {
	out := make([]Shape, len(batches))
	for i, b := range batches {
		out[i] = b.Shape
	}
	return out
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name     string
		lengths  []int
		maxBatch int
		set      ShapeSet
		want     []Shape
		wantIdx  [][]int // checked when not nil
	}{
		{
			name:    "empty input",
			lengths: nil, maxBatch: 32, set: cpuRanges,
			want: []Shape{},
		},
		{
			name:    "sorted stably, padded to the batch's longest",
			lengths: []int{9, 3, 5, 3}, maxBatch: 2, set: Ranges{BatchMax: 2, SeqMax: 512},
			want:    []Shape{{2, 3}, {2, 9}},
			wantIdx: [][]int{{1, 3}, {2, 0}},
		},
		{
			name:    "full batches of equal texts",
			lengths: repeat(70, 12), maxBatch: 32, set: cpuRanges,
			want: []Shape{{32, 12}, {32, 12}, {6, 12}},
		},
		{
			name:    "maxBatch 0 uses the shape set's maximum",
			lengths: repeat(65, 12), maxBatch: 0, set: cpuRanges,
			want: []Shape{{64, 12}, {1, 12}},
		},
		{
			name:    "maxBatch above the shapes' maximum is capped",
			lengths: repeat(20, 12), maxBatch: 100, set: Ranges{BatchMax: 10, SeqMax: 512},
			want: []Shape{{10, 12}, {10, 12}},
		},
		{
			name:    "grid: leftover rows padded rather than many tiny calls",
			lengths: repeat(13, 10), maxBatch: 32, set: coreMLGrid,
			want: []Shape{{16, 16}},
		},
		{
			name:    "grid: one long text is not allowed to pad the short ones",
			lengths: append(repeat(31, 10), 500), maxBatch: 32, set: coreMLGrid,
			want: []Shape{{32, 16}, {1, 512}},
		},
		{
			name:    "grid: rows beyond the largest shape are cut",
			lengths: repeat(40, 10), maxBatch: 64, set: coreMLGrid,
			want: []Shape{{32, 16}, {8, 16}},
		},
		{
			name:    "grid without a one-row shape pads the rows",
			lengths: []int{5}, maxBatch: 8, set: Enumerated{{8, 16}},
			want: []Shape{{8, 16}},
		},
		{
			name:    "sequence minimum",
			lengths: []int{2, 3}, maxBatch: 8, set: Ranges{BatchMax: 8, SeqMin: 8, SeqMax: 128},
			want: []Shape{{2, 8}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(tt.lengths, tt.maxBatch, tt.set)
			if err != nil {
				t.Fatal(err)
			}
			if s := shapesOf(got); !reflect.DeepEqual(s, tt.want) {
				t.Errorf("shapes = %v, want %v", s, tt.want)
			}
			if tt.wantIdx != nil {
				var idx [][]int
				for _, b := range got {
					idx = append(idx, b.Indices)
				}
				if !reflect.DeepEqual(idx, tt.wantIdx) {
					t.Errorf("indices = %v, want %v", idx, tt.wantIdx)
				}
			}
			checkPlan(t, tt.lengths, tt.maxBatch, tt.set, got)
		})
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name     string
		lengths  []int
		maxBatch int
		set      ShapeSet
		want     string
	}{
		{"longer than every shape", []int{5, 513, 7}, 8, cpuRanges, "text 1 has 513 tokens"},
		{"longer than every grid shape", []int{600}, 8, coreMLGrid, "text 0 has 600 tokens"},
		{"negative length", []int{3, -1}, 8, cpuRanges, "negative length"},
		{"negative batch", []int{3}, -1, cpuRanges, "negative"},
		{"no shape set", []int{3}, 8, nil, "no shape set"},
		{"empty shape set", []int{3}, 8, Enumerated{}, "allows no rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Plan(tt.lengths, tt.maxBatch, tt.set)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// checkPlan verifies the invariants every plan must hold.
func checkPlan(t *testing.T, lengths []int, maxBatch int, set ShapeSet, batches []Batch) {
	t.Helper()
	rowCap := set.MaxBatch()
	if maxBatch > 0 && maxBatch < rowCap {
		rowCap = maxBatch
	}
	seen := make([]int, len(lengths))
	for k, b := range batches {
		if len(b.Indices) == 0 || len(b.Indices) > rowCap {
			t.Fatalf("batch %d has %d rows, cap %d", k, len(b.Indices), rowCap)
		}
		longest := 0
		for _, i := range b.Indices {
			if i < 0 || i >= len(lengths) {
				t.Fatalf("batch %d holds out-of-range index %d", k, i)
			}
			seen[i]++
			if lengths[i] > longest {
				longest = lengths[i]
			}
		}
		want, ok := set.Fit(len(b.Indices), longest)
		if !ok || b.Shape != want {
			t.Fatalf("batch %d: shape %v, want the smallest fit %v (%v)", k, b.Shape, want, ok)
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("text %d appears in %d batches", i, c)
		}
	}
	// Batches are runs of the texts sorted by length, stably: read in order, the indices
	// are the stable sort of the input by length (so rows are shortest first, and equal
	// lengths keep their input order).
	sorted := make([]int, len(lengths))
	for i := range sorted {
		sorted[i] = i
	}
	sort.SliceStable(sorted, func(a, b int) bool { return lengths[sorted[a]] < lengths[sorted[b]] })
	pos := 0
	for k, b := range batches {
		for r, i := range b.Indices {
			if i != sorted[pos] {
				t.Fatalf("batch %d row %d holds text %d (length %d), want text %d (length %d): not the stable length order",
					k, r, i, lengths[i], sorted[pos], lengths[sorted[pos]])
			}
			pos++
		}
	}
}

// naive pads every text to the longest allowed sequence in batches of maxBatch.
func naive(lengths []int, maxBatch, maxSeq int) Stats {
	s := Stats{Texts: len(lengths)}
	for i := 0; i < len(lengths); i += maxBatch {
		s.Batches++
		s.Slots += maxBatch * maxSeq
	}
	for _, n := range lengths {
		s.Tokens += n
	}
	return s
}

// sentenceLengths draws token lengths shaped like real sentences and passages: mostly
// 8..40 tokens, a tail up to the 256-token truncation limit.
func sentenceLengths(r *rand.Rand, n int) []int {
	out := make([]int, n)
	for i := range out {
		switch {
		case r.Intn(10) < 8:
			out[i] = 8 + r.Intn(33)
		default:
			out[i] = 2 + r.Intn(255)
		}
	}
	return out
}

func TestPlanProperties(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	sets := []struct {
		name string
		set  ShapeSet
	}{
		{"cpu", cpuRanges},
		{"cpu min seq", Ranges{BatchMax: 32, SeqMin: 16, SeqMax: 512}},
		{"grid", coreMLGrid},
		{"sparse grid", Enumerated{{1, 512}, {4, 128}, {16, 32}, {64, 16}}},
	}
	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			for iter := 0; iter < 200; iter++ {
				n := r.Intn(300)
				lengths := make([]int, n)
				for i := range lengths {
					lengths[i] = r.Intn(s.set.MaxSeq() + 1)
				}
				maxBatch := r.Intn(80)
				got, err := Plan(lengths, maxBatch, s.set)
				if err != nil {
					t.Fatalf("lengths %v: %v", lengths, err)
				}
				checkPlan(t, lengths, maxBatch, s.set, got)
			}
		})
	}
}

func TestPlanWaste(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	lengths := sentenceLengths(r, 10000)
	tests := []struct {
		name     string
		set      ShapeSet
		maxWaste float64
	}{
		{"cpu", cpuRanges, 0.01},
		{"grid", coreMLGrid, 0.40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(lengths, 32, tt.set)
			if err != nil {
				t.Fatal(err)
			}
			s := Measure(lengths, got)
			base := naive(lengths, 32, 512)
			t.Logf("planned: %v", s)
			t.Logf("naive:   %v", base)
			if s.Texts != len(lengths) || s.Tokens != base.Tokens {
				t.Fatalf("stats lost texts: %v", s)
			}
			if s.Waste() > tt.maxWaste {
				t.Errorf("padding waste %.3f, want at most %.3f", s.Waste(), tt.maxWaste)
			}
			if s.Slots*8 > base.Slots {
				t.Errorf("planned %d slots, want at most 1/8 of naive %d", s.Slots, base.Slots)
			}
			// The call overhead must not explode the number of calls.
			if s.Batches > 2*base.Batches {
				t.Errorf("%d batches, naive needs %d", s.Batches, base.Batches)
			}
		})
	}
}

// TestPlanOptimal compares the planner with every cut of the sorted texts.
func TestPlanOptimal(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, set := range []ShapeSet{coreMLGrid, Ranges{BatchMax: 4, SeqMax: 512}} {
		for iter := 0; iter < 100; iter++ {
			n := 1 + r.Intn(10)
			lengths := make([]int, n)
			for i := range lengths {
				lengths[i] = 1 + r.Intn(300)
			}
			p := Planner{Shapes: set, MaxBatch: 4, CallCost: 1 + r.Intn(200)}
			got, err := p.Plan(lengths)
			if err != nil {
				t.Fatal(err)
			}
			cost := func(bs []Batch) int {
				c := 0
				for _, b := range bs {
					c += b.Shape.Tokens() + p.CallCost
				}
				return c
			}
			sorted := append([]int(nil), lengths...)
			sort.Ints(sorted)
			best := -1
			for mask := 0; mask < 1<<(n-1); mask++ { // bit k set: cut after sorted text k
				c, start, ok := 0, 0, true
				for k := 0; k < n && ok; k++ {
					if k == n-1 || mask&(1<<k) != 0 {
						rows := k + 1 - start
						shape, fits := set.Fit(rows, sorted[k])
						ok = fits && rows <= 4
						c += shape.Tokens() + p.CallCost
						start = k + 1
					}
				}
				if ok && (best < 0 || c < best) {
					best = c
				}
			}
			if got := cost(got); got != best {
				t.Fatalf("lengths %v, call cost %d: plan costs %d, best cut %d", lengths, p.CallCost, got, best)
			}
		}
	}
}

func BenchmarkPlanGrid10k(b *testing.B) {
	lengths := sentenceLengths(rand.New(rand.NewSource(4)), 10000)
	for i := 0; i < b.N; i++ {
		if _, err := Plan(lengths, 64, coreMLGrid); err != nil {
			b.Fatal(err)
		}
	}
}
