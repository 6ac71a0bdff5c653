package metrics

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// log2(3) etc. written out so each expected value can be checked by hand.
var (
	l3 = math.Log2(3)
	l4 = 2.0
	l5 = math.Log2(5)
)

func TestNDCG(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranked []string
		rels   map[string]int
		k      int
		want   float64
	}{
		{"perfect single", []string{"a", "b"}, map[string]int{"a": 1}, 10, 1},
		{"relevant at rank 2", []string{"x", "a"}, map[string]int{"a": 1}, 10, 1 / l3},
		{"relevant at rank 3", []string{"x", "y", "a"}, map[string]int{"a": 1}, 10, 1 / l4},
		{"cut off before it", []string{"x", "y", "a"}, map[string]int{"a": 1}, 2, 0},
		{"not retrieved", []string{"x"}, map[string]int{"a": 1}, 10, 0},
		{"empty run", nil, map[string]int{"a": 1}, 10, 0},
		{"two relevant, ranks 1 and 3", []string{"a", "x", "b"}, map[string]int{"a": 1, "b": 1},
			10, (1 + 1/l4) / (1 + 1/l3)},
		{"two relevant, ranks 2 and 4", []string{"x", "a", "y", "b"}, map[string]int{"a": 1, "b": 1},
			10, (1/l3 + 1/l5) / (1 + 1/l3)},
		{"ideal cut at k=1", []string{"x", "a"}, map[string]int{"a": 1, "b": 1}, 1, 0},
		{"graded, swapped", []string{"b", "a"}, map[string]int{"a": 2, "b": 1},
			10, (1 + 2/l3) / (2 + 1/l3)},
		{"zero relevance counts as not relevant", []string{"z", "a"}, map[string]int{"a": 1, "z": 0}, 10, 1 / l3},
		{"no relevant judgement", []string{"a"}, map[string]int{"a": 0}, 10, 0},
		{"k=0", []string{"a"}, map[string]int{"a": 1}, 0, 0},
	} {
		if got := NDCG(tc.ranked, tc.rels, tc.k); !near(got, tc.want) {
			t.Errorf("%s: nDCG@%d = %v, want %v", tc.name, tc.k, got, tc.want)
		}
	}
}

func TestRecall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranked []string
		rels   map[string]int
		k      int
		want   float64
	}{
		{"found", []string{"a"}, map[string]int{"a": 1}, 10, 1},
		{"half", []string{"a", "x"}, map[string]int{"a": 1, "b": 1}, 10, 0.5},
		{"outside cutoff", []string{"x", "y", "a"}, map[string]int{"a": 1}, 2, 0},
		{"inside cutoff", []string{"x", "y", "a"}, map[string]int{"a": 1}, 3, 1},
		{"one of three", []string{"c"}, map[string]int{"a": 1, "b": 1, "c": 2}, 1, 1.0 / 3},
		{"zero-relevance ignored", []string{"z"}, map[string]int{"a": 1, "z": 0}, 10, 0},
		{"duplicate id counted once", []string{"a", "a"}, map[string]int{"a": 1, "b": 1}, 10, 0.5},
		{"no relevant", []string{"a"}, map[string]int{}, 10, 0},
	} {
		if got := Recall(tc.ranked, tc.rels, tc.k); !near(got, tc.want) {
			t.Errorf("%s: recall@%d = %v, want %v", tc.name, tc.k, got, tc.want)
		}
	}
}

func TestEvaluateAverages(t *testing.T) {
	qrels, err := ReadQrels(strings.NewReader("query-id\tcorpus-id\tscore\nq1\ta\t1\nq2\tb\t1\nq2\tc\t1\nq3\tz\t0\n"))
	if err != nil {
		t.Fatal(err)
	}
	run := map[string][]string{
		"q1": {"a", "x"},      // nDCG 1, recall 1
		"q2": {"x", "c", "b"}, // nDCG (1/l3 + 1/l4)/(1 + 1/l3); recall@1 0, recall@10 1
		"q9": {"a"},           // not in qrels: ignored
		// q3 has no relevant document: not evaluated
	}
	s := Evaluate(run, qrels, []int{10, 1})
	if s.Queries != 2 {
		t.Fatalf("evaluated %d queries, want 2", s.Queries)
	}
	wantNDCG := (1 + (1/l3+1/l4)/(1+1/l3)) / 2
	if !near(s.NDCG[10], wantNDCG) {
		t.Errorf("nDCG@10 = %v, want %v", s.NDCG[10], wantNDCG)
	}
	if !near(s.Recall[10], 1) || !near(s.Recall[1], 0.5) || !near(s.NDCG[1], 0.5) {
		t.Errorf("recall@10 %v recall@1 %v nDCG@1 %v, want 1, 0.5, 0.5", s.Recall[10], s.Recall[1], s.NDCG[1])
	}
	// A query with relevant documents but no run entry counts as 0.
	s = Evaluate(map[string][]string{"q1": {"a"}}, qrels, []int{10})
	if !near(s.NDCG[10], 0.5) {
		t.Errorf("missing query: nDCG@10 = %v, want 0.5", s.NDCG[10])
	}
}

func TestReadQrelsErrors(t *testing.T) {
	if _, err := ReadQrels(strings.NewReader("q\td\n")); err == nil {
		t.Error("two fields accepted")
	}
	if _, err := ReadQrels(strings.NewReader("q\td\tx\n")); err == nil {
		t.Error("non-numeric score accepted")
	}
}
