// Package benchdata loads the benchmark corpora (STS-B sentences, BEIR SciFact) and finds
// the data, model and output locations the benchmark binaries need.
package benchdata

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/minilm-coreml/minilm/go/bench/metrics"
	"github.com/minilm-coreml/minilm/go/internal/fixtures"
)

// Layout of a data directory (see /work/shared/data/README.md in the project's shared
// folder): stsb-test.tsv and scifact/{corpus.jsonl,queries.jsonl,qrels-test.tsv}.
const (
	STSBFile    = "stsb-test.tsv"
	CorpusFile  = "scifact/corpus.jsonl"
	QueriesFile = "scifact/queries.jsonl"
	QrelsFile   = "scifact/qrels-test.tsv"
)

// RepoRoot finds the repository root: BUILD_WORKSPACE_DIRECTORY under `bazel run`, else the
// first directory above the working directory that holds WORKSPACE or go.mod.
func RepoRoot() (string, error) {
	if d := os.Getenv("BUILD_WORKSPACE_DIRECTORY"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, marker := range []string{"WORKSPACE", "go.mod"} {
			if fi, err := os.Stat(filepath.Join(dir, marker)); err == nil && !fi.IsDir() {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no WORKSPACE or go.mod above the working directory")
		}
		dir = parent
	}
}

// DataDir resolves the --data-dir flag: the flag if set, else $MINILM_DATA_DIR, else
// ../shared/data relative to the repository root. need lists files (relative to the data
// directory) that must exist; a missing one is a clear error naming the flag.
func DataDir(flag string, need ...string) (string, error) {
	dir := flag
	how := "--data-dir"
	if dir == "" {
		dir = os.Getenv("MINILM_DATA_DIR")
		how = "$MINILM_DATA_DIR"
	}
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", fmt.Errorf("no --data-dir given and %v; pass --data-dir pointing at the evaluation data (stsb-test.tsv, scifact/)", err)
		}
		dir = filepath.Join(root, "..", "shared", "data")
		how = "the default ../shared/data next to the repository"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, f := range need {
		if _, err := os.Stat(filepath.Join(abs, f)); err != nil {
			return "", fmt.Errorf("data directory %s (from %s) has no %s: pass --data-dir pointing at a directory with stsb-test.tsv and scifact/{corpus.jsonl,queries.jsonl,qrels-test.tsv}", abs, how, f)
		}
	}
	return abs, nil
}

// ModelDir resolves the --model-dir flag: the flag if set, else $MINILM_MODEL_DIR, else the
// runfiles path models/minilm_weights (the working directory of `bazel run` and `bazel
// test` is the runfiles root of the workspace). The directory must hold config.json.
func ModelDir(flag string) (string, error) {
	candidates := []string{flag, os.Getenv("MINILM_MODEL_DIR")}
	if rf := os.Getenv("RUNFILES_DIR"); rf != "" {
		candidates = append(candidates, filepath.Join(rf, workspaceName(), "models", "minilm_weights"))
	}
	candidates = append(candidates, filepath.Join("models", "minilm_weights"))
	if exe, err := os.Executable(); err == nil {
		// <bin>.runfiles/<workspace>/models/minilm_weights when run outside the runfiles tree.
		candidates = append(candidates, filepath.Join(exe+".runfiles", workspaceName(), "models", "minilm_weights"))
	}
	for i, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "config.json")); err == nil {
			return filepath.Abs(c)
		}
		if i < 2 {
			return "", fmt.Errorf("model directory %s has no config.json", c)
		}
	}
	return "", errors.New("no model directory: pass --model-dir, set MINILM_MODEL_DIR, or run through `bazel run` (which provides models/minilm_weights)")
}

func workspaceName() string {
	if w := os.Getenv("TEST_WORKSPACE"); w != "" {
		return w
	}
	return "minilm_coreml"
}

// STSBSentences returns the distinct sentences of the STS-B test split in file order
// (sentence1 and sentence2 of each pair, duplicates dropped).
func STSBSentences(dataDir string) ([]string, error) {
	pairs, err := fixtures.ReadSTSB(filepath.Join(dataDir, STSBFile))
	if err != nil {
		return nil, err
	}
	sentences, _ := pairs.Distinct()
	return sentences, nil
}

// Doc is one SciFact corpus document.
type Doc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Passage is the text MTEB embeds for a document: (title + " " + text) stripped.
func (d Doc) Passage() string { return strings.TrimSpace(d.Title + " " + d.Text) }

// Query is one SciFact test query.
type Query struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

// SciFact is the BEIR SciFact test split.
type SciFact struct {
	Corpus  []Doc
	Queries []Query
	Qrels   metrics.Qrels
}

// LoadSciFact reads corpus, queries and test qrels.
func LoadSciFact(dataDir string) (*SciFact, error) {
	s := &SciFact{}
	if err := fixtures.EachJSONLine(filepath.Join(dataDir, CorpusFile), func(b []byte) error {
		var d Doc
		if err := json.Unmarshal(b, &d); err != nil {
			return err
		}
		s.Corpus = append(s.Corpus, d)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := fixtures.EachJSONLine(filepath.Join(dataDir, QueriesFile), func(b []byte) error {
		var q Query
		if err := json.Unmarshal(b, &q); err != nil {
			return err
		}
		s.Queries = append(s.Queries, q)
		return nil
	}); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dataDir, QrelsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if s.Qrels, err = metrics.ReadQrels(f); err != nil {
		return nil, fmt.Errorf("%s: %w", QrelsFile, err)
	}
	return s, nil
}

// Subset keeps the first nQueries queries that have judgements, every document judged for
// them, and distractor documents (in corpus order) up to nDocs documents in all. Scores on a
// subset are not comparable with the published full-corpus figures.
func (s *SciFact) Subset(nQueries, nDocs int) *SciFact {
	out := &SciFact{Qrels: metrics.Qrels{}}
	keepDoc := map[string]bool{}
	for _, q := range s.Queries {
		if len(out.Queries) >= nQueries {
			break
		}
		rels, ok := s.Qrels[q.ID]
		if !ok {
			continue
		}
		out.Queries = append(out.Queries, q)
		out.Qrels[q.ID] = rels
		for d := range rels {
			keepDoc[d] = true
		}
	}
	extra := nDocs - len(keepDoc)
	for _, d := range s.Corpus {
		if keepDoc[d.ID] {
			out.Corpus = append(out.Corpus, d)
		} else if extra > 0 {
			out.Corpus = append(out.Corpus, d)
			extra--
		}
	}
	return out
}

// Passages returns the corpus passages in corpus order.
func (s *SciFact) Passages() []string {
	out := make([]string, len(s.Corpus))
	for i, d := range s.Corpus {
		out[i] = d.Passage()
	}
	return out
}

// Corpora builds the three text sets of the batch benchmark from real data: "short" (STS-B
// sentences), "long" (SciFact passages) and "mixed" (half of each, shuffled with a fixed
// seed). n caps each set (0: no cap; long texts are taken in corpus order).
func Corpora(dataDir string, n int) (map[string][]string, error) {
	short, err := STSBSentences(dataDir)
	if err != nil {
		return nil, err
	}
	sf, err := LoadSciFact(dataDir)
	if err != nil {
		return nil, err
	}
	long := sf.Passages()
	capN := func(s []string, n int) []string {
		if n > 0 && len(s) > n {
			return s[:n]
		}
		return s
	}
	mixed := append(append([]string(nil), capN(short, (n+1)/2)...), capN(long[len(long)/2:], n/2)...)
	if n == 0 {
		mixed = append(append([]string(nil), short...), long...)
	}
	rand.New(rand.NewSource(42)).Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	return map[string][]string{
		"short": capN(short, n),
		"mixed": mixed,
		"long":  capN(long, n),
	}, nil
}

// CorpusOrder is the order corpora appear in reports.
var CorpusOrder = []string{"short", "mixed", "long"}
