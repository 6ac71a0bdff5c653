// Package stats holds the correlation statistics of the quality checks (the STS Benchmark
// Spearman of go/cmd/mlgate and of go/embed's model tests), in one place so that they agree.
//
// NaN contract: Pearson propagates NaN (any NaN input gives NaN). Spearman and Ranks rank a
// NaN below every number, tied with the other NaNs, so that a NaN similarity (the cosine of
// a broken, non-finite embedding) counts as the worst match and lowers the score instead of
// making it NaN; scipy.stats.spearmanr's default (nan_policy="propagate") would return NaN.
// The reference values of the tests come from scipy (testdata/make_reference.py).
package stats

import (
	"math"
	"sort"
)

// Pearson returns Pearson's correlation coefficient of x and y. It is NaN when their lengths
// differ, when there are fewer than two pairs, when either has zero variance, or when any
// value is NaN.
func Pearson(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 2 {
		return math.NaN()
	}
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Spearman returns Spearman's rank correlation of x and y: the Pearson correlation of their
// Ranks, ties given their average rank (as scipy.stats.spearmanr). NaN values rank lowest
// (see the package comment). It is NaN when the lengths differ, when there are fewer than
// two pairs, or when either side's ranks are all tied.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		return math.NaN()
	}
	return Pearson(Ranks(x), Ranks(y))
}

// Ranks returns the 1-based ranks of v in ascending order, tied values sharing their
// average rank (scipy.stats.rankdata's "average" method). NaN values rank below every
// number, -Inf included, tied with each other.
func Ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	// less orders NaN first, then numbers ascending.
	less := func(a, b float64) bool {
		if math.IsNaN(a) {
			return !math.IsNaN(b)
		}
		return !math.IsNaN(b) && a < b
	}
	sort.SliceStable(idx, func(a, b int) bool { return less(v[idx[a]], v[idx[b]]) })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && !less(v[idx[i]], v[idx[j+1]]) {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}
