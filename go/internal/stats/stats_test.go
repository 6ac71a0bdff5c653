package stats

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

// reference is testdata/reference.json, written by testdata/make_reference.py from scipy.
type reference struct {
	Generator string `json:"generator"`
	Cases     []struct {
		Name     string    `json:"name"`
		X        []string  `json:"x"`
		Y        []string  `json:"y"`
		RanksX   []float64 `json:"ranks_x"`
		Spearman *float64  `json:"spearman"`
		Pearson  *float64  `json:"pearson"` // null: NaN
	} `json:"cases"`
}

func floats(t *testing.T, s []string) []float64 {
	t.Helper()
	out := make([]float64, len(s))
	for i, v := range s {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("reference value %q: %v", v, err)
		}
		out[i] = f
	}
	return out
}

func TestAgainstScipy(t *testing.T) {
	raw, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 5 {
		t.Fatalf("%d reference cases, want at least 5", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			x, y := floats(t, c.X), floats(t, c.Y)
			for i, r := range Ranks(x) {
				if r != c.RanksX[i] {
					t.Errorf("Ranks(%v)[%d] = %v, scipy %v", x, i, r, c.RanksX[i])
				}
			}
			if got := Spearman(x, y); c.Spearman == nil || math.Abs(got-*c.Spearman) > 1e-12 {
				t.Errorf("Spearman = %v, scipy %v", got, c.Spearman)
			}
			got := Pearson(x, y)
			switch {
			case c.Pearson == nil && !math.IsNaN(got):
				t.Errorf("Pearson = %v, want NaN", got)
			case c.Pearson != nil && !(math.Abs(got-*c.Pearson) <= 1e-12):
				t.Errorf("Pearson = %v, scipy %v", got, *c.Pearson)
			}
		})
	}
}

func TestUndefinedIsNaN(t *testing.T) {
	for _, c := range []struct {
		name string
		x, y []float64
	}{
		{"empty", nil, nil},
		{"one pair", []float64{1}, []float64{2}},
		{"lengths differ", []float64{1, 2, 3}, []float64{1, 2}},
		{"constant x", []float64{4, 4, 4}, []float64{1, 2, 3}},
		{"all NaN y", []float64{1, 2, 3}, []float64{math.NaN(), math.NaN(), math.NaN()}},
	} {
		if got := Spearman(c.x, c.y); !math.IsNaN(got) {
			t.Errorf("%s: Spearman = %v, want NaN", c.name, got)
		}
		if got := Pearson(c.x, c.y); !math.IsNaN(got) {
			t.Errorf("%s: Pearson = %v, want NaN", c.name, got)
		}
	}
}
