package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minilm-coreml/minilm/go/bench/internal/benchdata"
	"github.com/minilm-coreml/minilm/go/bench/internal/engines"
	"github.com/minilm-coreml/minilm/go/bench/internal/peers"
	"github.com/minilm-coreml/minilm/go/bench/internal/quality"
	"github.com/minilm-coreml/minilm/go/bench/internal/report"
)

// qualityBatch is the batch size every engine embeds the quality texts with.
const qualityBatch = 32

// Names of the peers' quality jobs (bulk mode, vectors written out).
const (
	jobReference = "quality-reference"
	jobSTSB      = "quality-stsb"
)

// qualityData is what the quality scores need: the parity-corpus sample with its reference
// vectors, and the STS-B test split.
type qualityData struct {
	ref  *quality.Reference
	stsb *quality.STSB
}

func loadQuality(o *options, dataDir string) (*qualityData, error) {
	root, _ := benchdata.RepoRoot()
	dir, err := quality.FixturesDir(o.fixtures, root)
	if err != nil {
		return nil, err
	}
	ref, err := quality.LoadReference(dir, o.qualityTexts)
	if err != nil {
		return nil, err
	}
	stsb, err := quality.LoadSTSB(filepath.Join(dataDir, benchdata.STSBFile))
	if err != nil {
		return nil, err
	}
	return &qualityData{ref: ref, stsb: stsb}, nil
}

// score compares reference-text vectors and STS-B sentence vectors of one engine.
func (q *qualityData) score(engine, kind, precision string, refVecs, stsbVecs [][]float32) (report.EngineQuality, error) {
	eq := report.EngineQuality{Engine: engine, Kind: kind, Precision: precision, ReferenceTexts: len(q.ref.Texts)}
	var err error
	if eq.CosineMean, eq.CosineMin, err = quality.Cosine(q.ref.Vectors, refVecs); err != nil {
		return eq, err
	}
	if eq.STSBSpearman, err = q.stsb.Spearman(stsbVecs); err != nil {
		return eq, err
	}
	eq.STSBPairs = q.stsb.Pairs()
	return eq, nil
}

// scoreOurs embeds the quality texts with engine e (batches of qualityBatch) and scores them.
func (q *qualityData) scoreOurs(ctx context.Context, o *options, e engines.Engine) (report.EngineQuality, error) {
	fmt.Fprintf(os.Stderr, "%s quality: %d parity-corpus texts, %d STS-B sentences...\n", e.Name, len(q.ref.Texts), len(q.stsb.Sentences))
	emb, err := engines.NewEmbedder(e, o.ModelDir, qualityBatch, o.MaxSeqLength)
	if err != nil {
		return report.EngineQuality{}, err
	}
	defer emb.Close()
	refVecs, err := emb.Embed(ctx, q.ref.Texts)
	if err != nil {
		return report.EngineQuality{}, err
	}
	stsbVecs, err := emb.Embed(ctx, q.stsb.Sentences)
	if err != nil {
		return report.EngineQuality{}, err
	}
	return q.score(e.Name, report.KindBatched, e.Precision.String(), refVecs, stsbVecs)
}

// peerJobs returns the bulk jobs that make a peer write its vectors of the quality texts.
func (q *qualityData) peerJobs(work, tag string) ([]peers.Job, error) {
	var jobs []peers.Job
	for _, j := range []struct {
		name  string
		texts []string
	}{{jobReference, q.ref.Texts}, {jobSTSB, q.stsb.Sentences}} {
		f := filepath.Join(work, j.name+".texts.jsonl")
		if err := peers.WriteTexts(f, j.texts); err != nil {
			return nil, err
		}
		jobs = append(jobs, peers.Job{Name: j.name, Mode: "bulk", TextsFile: f, BatchSizes: []int{qualityBatch},
			WarmupCalls: 0, VectorsOut: filepath.Join(work, tag+"."+j.name+".f32")})
	}
	return jobs, nil
}

// scorePeer reads the vectors a peer wrote for the jobs of peerJobs and scores them.
func (q *qualityData) scorePeer(res *peers.Result, spec peers.Spec) (report.EngineQuality, error) {
	vecs := map[string][][]float32{}
	for _, j := range spec.Jobs {
		if j.Mode != "bulk" {
			continue
		}
		n := len(q.ref.Texts)
		if j.Name == jobSTSB {
			n = len(q.stsb.Sentences)
		}
		v, err := peers.ReadVectors(j.VectorsOut, n, len(q.ref.Vectors[0]))
		if err != nil {
			return report.EngineQuality{}, err
		}
		vecs[j.Name] = v
	}
	return q.score(res.Engine, report.KindPeer, peerPrecision(res), vecs[jobReference], vecs[jobSTSB])
}

// peerPrecision is the precision a peer reports in its versions, float32 by default.
func peerPrecision(res *peers.Result) string {
	if p, ok := res.Versions["precision"].(string); ok && p != "" {
		return p
	}
	return "float32"
}
