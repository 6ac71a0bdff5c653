// Package metrics scores a retrieval run against relevance judgements (qrels) the way
// BEIR and MTEB do, through pytrec_eval (trec_eval's ndcg_cut and recall measures):
//
//   - nDCG@k: DCG@k / IDCG@k with DCG@k = sum over ranks i=1..k of rel_i / log2(i+1), where
//     rel_i is the judged relevance of the document at rank i (0 if unjudged); IDCG@k is the
//     DCG of the judged documents sorted by relevance. trec_eval uses the relevance itself
//     as gain (not 2^rel-1); SciFact's judgements are all 1, where both agree.
//   - recall@k: relevant documents (relevance > 0) among the top k, over all relevant ones.
//
// Per-query values are averaged over every query that has at least one relevant document in
// the qrels; a query the run has no results for scores 0 (as MTEB, which always retrieves).
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Qrels maps query id -> document id -> relevance.
type Qrels map[string]map[string]int

// NDCG is nDCG@k of one ranking (document ids, best first) against the judgements of its
// query. It is 0 when no judged document is relevant.
func NDCG(ranked []string, rels map[string]int, k int) float64 {
	if k <= 0 {
		return 0
	}
	var dcg float64
	for i, id := range ranked {
		if i >= k {
			break
		}
		if r := rels[id]; r > 0 {
			dcg += float64(r) / math.Log2(float64(i+2))
		}
	}
	ideal := make([]int, 0, len(rels))
	for _, r := range rels {
		if r > 0 {
			ideal = append(ideal, r)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(ideal)))
	var idcg float64
	for i, r := range ideal {
		if i >= k {
			break
		}
		idcg += float64(r) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// Recall is recall@k of one ranking: the fraction of the relevant documents found in the
// top k. It is 0 when no judged document is relevant.
func Recall(ranked []string, rels map[string]int, k int) float64 {
	relevant := 0
	for _, r := range rels {
		if r > 0 {
			relevant++
		}
	}
	if relevant == 0 || k <= 0 {
		return 0
	}
	found := 0
	seen := make(map[string]bool, k)
	for i, id := range ranked {
		if i >= k {
			break
		}
		if rels[id] > 0 && !seen[id] {
			found++
		}
		seen[id] = true
	}
	return float64(found) / float64(relevant)
}

// Scores are means over the evaluated queries.
type Scores struct {
	Queries  int                `json:"queries"`
	NDCG     map[int]float64    `json:"ndcg"`   // cutoff -> mean nDCG@cutoff
	Recall   map[int]float64    `json:"recall"` // cutoff -> mean recall@cutoff
	PerQuery map[string]float64 `json:"-"`      // query id -> nDCG at the first cutoff
}

// Evaluate scores a run (query id -> ranked document ids) at each cutoff. Queries are those
// of qrels with at least one relevant document.
func Evaluate(run map[string][]string, qrels Qrels, cutoffs []int) Scores {
	s := Scores{NDCG: map[int]float64{}, Recall: map[int]float64{}, PerQuery: map[string]float64{}}
	for q, rels := range qrels {
		hasRelevant := false
		for _, r := range rels {
			if r > 0 {
				hasRelevant = true
				break
			}
		}
		if !hasRelevant {
			continue
		}
		s.Queries++
		ranked := run[q]
		for i, k := range cutoffs {
			n := NDCG(ranked, rels, k)
			s.NDCG[k] += n
			s.Recall[k] += Recall(ranked, rels, k)
			if i == 0 {
				s.PerQuery[q] = n
			}
		}
	}
	if s.Queries > 0 {
		for _, k := range cutoffs {
			s.NDCG[k] /= float64(s.Queries)
			s.Recall[k] /= float64(s.Queries)
		}
	}
	return s
}

// ReadQrels parses BEIR's qrels TSV: a header line "query-id<TAB>corpus-id<TAB>score", then
// one judgement per line.
func ReadQrels(r io.Reader) (Qrels, error) {
	q := Qrels{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("qrels line %d: %d fields, want 3", line, len(f))
		}
		if line == 1 && f[2] == "score" {
			continue
		}
		rel, err := strconv.Atoi(strings.TrimSpace(f[2]))
		if err != nil {
			return nil, fmt.Errorf("qrels line %d: score %q: %v", line, f[2], err)
		}
		if q[f[0]] == nil {
			q[f[0]] = map[string]int{}
		}
		q[f[0]][f[1]] = rel
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return q, nil
}
