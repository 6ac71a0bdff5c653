package benchdata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mini = "../../testdata"

func TestLoadMiniData(t *testing.T) {
	s, err := STSBSentences(mini)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) < 70 || len(s) > 80 || s[0] != "A girl is styling her hair." {
		t.Fatalf("%d sentences, first %q", len(s), s[0])
	}
	sf, err := LoadSciFact(mini)
	if err != nil {
		t.Fatal(err)
	}
	if len(sf.Corpus) != 120 || len(sf.Queries) != 20 || len(sf.Qrels) != 20 {
		t.Fatalf("corpus %d queries %d qrels %d", len(sf.Corpus), len(sf.Queries), len(sf.Qrels))
	}
	ids := map[string]bool{}
	for _, d := range sf.Corpus {
		ids[d.ID] = true
		if p := d.Passage(); p != strings.TrimSpace(p) || !strings.HasPrefix(p, strings.TrimSpace(d.Title)) {
			t.Fatalf("passage of %s: %q", d.ID, p)
		}
	}
	for q, rels := range sf.Qrels {
		for d := range rels {
			if !ids[d] {
				t.Errorf("query %s judges %s, which is not in the corpus", q, d)
			}
		}
	}
	sub := sf.Subset(5, 30)
	if len(sub.Queries) != 5 || len(sub.Corpus) != 30 || len(sub.Qrels) != 5 {
		t.Fatalf("subset: %d queries, %d docs, %d qrels", len(sub.Queries), len(sub.Corpus), len(sub.Qrels))
	}
	subIDs := map[string]bool{}
	for _, d := range sub.Corpus {
		subIDs[d.ID] = true
	}
	for _, rels := range sub.Qrels {
		for d := range rels {
			if !subIDs[d] {
				t.Errorf("subset lost relevant document %s", d)
			}
		}
	}
}

func TestCorpora(t *testing.T) {
	c, err := Corpora(mini, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range CorpusOrder {
		if len(c[n]) != 10 {
			t.Errorf("%s has %d texts, want 10", n, len(c[n]))
		}
	}
}

func TestDataDirErrors(t *testing.T) {
	if _, err := DataDir(mini, STSBFile, CorpusFile); err != nil {
		t.Fatal(err)
	}
	_, err := DataDir(t.TempDir(), STSBFile)
	if err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("missing data: %v", err)
	}
}

func TestModelDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := ModelDir(dir); err == nil {
		t.Fatal("directory without config.json accepted")
	}
	_ = os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o644)
	got, err := ModelDir(dir)
	if err != nil || got != dir {
		t.Fatalf("ModelDir(%s) = %s, %v", dir, got, err)
	}
}
