package main

import (
	"fmt"
	"sort"

	"github.com/minilm-coreml/minilm/go/bench/internal/benchdata"
	"github.com/minilm-coreml/minilm/go/bench/internal/report"
	"github.com/minilm-coreml/minilm/go/bench/metrics"
	"github.com/minilm-coreml/minilm/go/quantize"
)

// quantizedQuality measures retrieval with the quantized embeddings the library offers
// (embed.OutputPrecision), made from the same float32 vectors: int8 and uint8 with ranges
// calibrated on the documents (as sentence-transformers' calibration_embeddings), ranked by
// the dot product of the codes, as an index holding the codes computes it; binary ranked by
// Hamming distance (binary and ubinary pack the same bits, so they rank alike).
func quantizedQuality(sf *benchdata.SciFact, docVecs, qVecs [][]float32, float32Quality report.Quality) ([]report.QuantizedQuality, error) {
	ranges, err := quantize.Calibrate(docVecs)
	if err != nil {
		return nil, err
	}
	var out []report.QuantizedQuality
	for _, p := range []quantize.Precision{quantize.Int8, quantize.Uint8, quantize.UBinary} {
		docs, err := codes(p, ranges, docVecs)
		if err != nil {
			return nil, err
		}
		queries, err := codes(p, ranges, qVecs)
		if err != nil {
			return nil, err
		}
		run := map[string][]string{}
		for i, q := range sf.Queries {
			run[q.ID] = rank(p, queries[i], docs, sf, retrieveK)
		}
		s := metrics.Evaluate(run, sf.Qrels, []int{10, 100})
		name := p.String()
		if p == quantize.UBinary {
			name = "binary / ubinary (Hamming)"
		}
		q := report.Quality{NDCG10: s.NDCG[10], Recall10: s.Recall[10], Recall100: s.Recall[100]}
		out = append(out, report.QuantizedQuality{Precision: name, BytesPerVector: p.Len(dim), Quality: q,
			DeltaNDCG10: q.NDCG10 - float32Quality.NDCG10})
	}
	return out, nil
}

// codes quantizes every vector to p, as int32 values (codes or packed bytes).
func codes(p quantize.Precision, r quantize.Ranges, vecs [][]float32) ([][]int32, error) {
	out := make([][]int32, len(vecs))
	i8 := make([]int8, dim)
	u8 := make([]uint8, dim)
	bits := make([]uint8, p.Len(dim))
	for i, v := range vecs {
		c := make([]int32, p.Len(dim))
		switch p {
		case quantize.Int8:
			if err := r.Int8(i8, v); err != nil {
				return nil, err
			}
			for k, x := range i8 {
				c[k] = int32(x)
			}
		case quantize.Uint8:
			if err := r.Uint8(u8, v); err != nil {
				return nil, err
			}
			for k, x := range u8 {
				c[k] = int32(x)
			}
		case quantize.UBinary:
			quantize.PackBits(bits, v)
			for k, x := range bits {
				c[k] = int32(x)
			}
		default:
			return nil, fmt.Errorf("no retrieval for %v", p)
		}
		out[i] = c
	}
	return out, nil
}

// rank returns the ids of the k best documents for query q: highest code dot product, or
// lowest Hamming distance for binary codes; ties keep corpus order.
func rank(p quantize.Precision, q []int32, docs [][]int32, sf *benchdata.SciFact, k int) []string {
	type hit struct {
		i     int
		score int64
	}
	hits := make([]hit, len(docs))
	qb := make([]uint8, len(q))
	db := make([]uint8, len(q))
	for i := range qb {
		qb[i] = uint8(q[i])
	}
	for i, d := range docs {
		var s int64
		if p == quantize.UBinary {
			for j := range d {
				db[j] = uint8(d[j])
			}
			s = -int64(quantize.Hamming(qb, db))
		} else {
			for j := range d {
				s += int64(q[j]) * int64(d[j])
			}
		}
		hits[i] = hit{i, s}
	}
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].score > hits[b].score })
	if k > len(hits) {
		k = len(hits)
	}
	ids := make([]string, k)
	for j := range ids {
		ids[j] = sf.Corpus[hits[j].i].ID
	}
	return ids
}
