package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/backend/coreml"
	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/mil"
	"github.com/minilm-coreml/minilm/go/mlpackage"
	"github.com/minilm-coreml/minilm/go/tokenizer"
	"slices"
)

// The converter's two interfaces of the same model (python/minilm_convert, --inputs):
// //models:single_input_parity_test points these at //models:minilm_mlpackage (single
// input, the default) and //models:minilm_mlpackage_two_input. Unset, the tests skip, so
// that //go/... never needs the conversion toolchain.
const (
	envSingleInput = "MINILM_MLPACKAGE_SINGLE_INPUT"
	envTwoInput    = "MINILM_MLPACKAGE_TWO_INPUT"
)

// singleInputMinCos is issue 11's bound: the single-input model's vectors equal the two-input
// model's on the fixture corpus, with every intermediate rounded to float16.
const singleInputMinCos = 0.9999

func packageFromEnv(t *testing.T, env string) *mlpackage.Package {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		t.Skipf("%s is not set: point it at a converted .mlpackage (bazel test //models:single_input_parity_test sets it)", env)
	}
	pkg, err := mlpackage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// minimumOS is the converter's minilm.minimum_os metadata value (coreml.MinimumOSKey).
type minimumOS struct {
	MacOS                string   `json:"macOS"`
	IOS                  string   `json:"iOS"`
	SpecificationVersion int32    `json:"specification_version"`
	Reasons              []string `json:"reasons"`
}

// TestSingleInputPackageMetadata checks what the Core ML backend relies on: the input names,
// the minimum OS the metadata states (and that it agrees with the specification version
// Core ML checks on load), and the single-input id encoding, which must be package coreml's.
func TestSingleInputPackageMetadata(t *testing.T) {
	for _, tc := range []struct {
		env           string
		inputs        []string
		macOS, iOS    string
		spec          int32
		reasons, hasE bool
	}{
		{envSingleInput, []string{coreml.InputIDsName}, "14.0", "17.0", 8, false, true},
		{envTwoInput, []string{coreml.InputIDsName, coreml.AttentionMaskName}, "15.0", "18.0", 9, true, false},
	} {
		t.Run(tc.env, func(t *testing.T) {
			pkg := packageFromEnv(t, tc.env)
			var names []string
			for _, f := range pkg.Model.Description.Inputs {
				names = append(names, f.Name)
			}
			if !slices.Equal(names, tc.inputs) {
				t.Errorf("inputs %v, want %v", names, tc.inputs)
			}
			md := pkg.Model.Description.Metadata.UserDefined
			var recorded []string
			if err := json.Unmarshal([]byte(md["minilm.inputs"]), &recorded); err != nil || !slices.Equal(recorded, tc.inputs) {
				t.Errorf("minilm.inputs %q (%v), want %v", md["minilm.inputs"], err, tc.inputs)
			}
			var mos minimumOS
			if err := json.Unmarshal([]byte(md[coreml.MinimumOSKey]), &mos); err != nil {
				t.Fatalf("minilm.minimum_os %q: %v", md[coreml.MinimumOSKey], err)
			}
			if mos.MacOS != tc.macOS || mos.IOS != tc.iOS || mos.SpecificationVersion != tc.spec || (len(mos.Reasons) > 0) != tc.reasons {
				t.Errorf("minilm.minimum_os = %+v, want macOS %s, iOS %s, spec %d, reasons %v", mos, tc.macOS, tc.iOS, tc.spec, tc.reasons)
			}
			if pkg.Model.SpecificationVersion != tc.spec {
				t.Errorf("specification version %d, want %d", pkg.Model.SpecificationVersion, tc.spec)
			}
			enc, ok := md["minilm.input_encoding"]
			if ok != tc.hasE {
				t.Fatalf("minilm.input_encoding present %v, want %v", ok, tc.hasE)
			}
			if ok {
				var e struct {
					Pad        *int32 `json:"pad_id"`
					LiteralPad *int32 `json:"literal_pad_id"`
				}
				if err := json.Unmarshal([]byte(enc), &e); err != nil || e.Pad == nil || e.LiteralPad == nil ||
					*e.Pad != coreml.PadID || *e.LiteralPad != coreml.LiteralPadID {
					t.Errorf("minilm.input_encoding %q (%v), want pad %d, literal pad %d (go/backend/coreml/inputs.go)", enc, err, coreml.PadID, coreml.LiteralPadID)
				}
			}
		})
	}
}

// embedWith embeds texts through go/embed's pipeline on be (closed by the embedder).
func embedWith(t *testing.T, be backend.Backend, modelDir string, texts []string) [][]float32 {
	t.Helper()
	e, err := embed.New(embed.WithModelDir(modelDir), embed.WithCustomBackend(be), embed.WithMaxSeqLength(256))
	if err != nil {
		be.Close()
		t.Fatal(err)
	}
	defer e.Close()
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	return vecs
}

// TestSingleInputMatchesTwoInput runs both packages with the MIL executor in float16 mode
// on the whole fixture corpus (1,357 texts, the literal "[PAD]" text among them) and
// requires the same vectors: minimum cosine ≥ 0.9999.
func TestSingleInputMatchesTwoInput(t *testing.T) {
	single := packageFromEnv(t, envSingleInput)
	two := packageFromEnv(t, envTwoInput)
	modelDir := testmodel.ModelDir(t)
	d, err := LoadData(filepath.Dir(testmodel.RepoFile(t, "testdata/fixtures/corpus.jsonl")), testmodel.RepoFile(t, "testdata/stsb/stsb-test.tsv"), false)
	if err != nil {
		t.Fatal(err)
	}
	var vecs [2][][]float32
	for i, pkg := range []*mlpackage.Package{single, two} {
		be, err := mil.NewBackendFromPackage(pkg, mil.WithFP16(true))
		if err != nil {
			t.Fatal(err)
		}
		if be.SingleInput() != (i == 0) {
			t.Fatalf("package %d: SingleInput() = %v", i, be.SingleInput())
		}
		vecs[i] = embedWith(t, be, modelDir, d.Texts)
	}
	minCos, sum, at := math.Inf(1), 0.0, -1
	for i := range d.Texts {
		c := float64(embed.Cosine(vecs[0][i], vecs[1][i]))
		if c != c {
			c = -1
		}
		sum += c
		if c < minCos {
			minCos, at = c, i
		}
	}
	t.Logf("single-input vs two-input, fp16 mode, %d texts: min cosine %.7f (1 - min = %.1e, text %d), mean %.8f", len(d.Texts), minCos, 1-minCos, at, sum/float64(len(d.Texts)))
	if !(minCos >= singleInputMinCos) {
		t.Errorf("min cosine %.7f < %g (text %d %q)", minCos, singleInputMinCos, at, d.Texts[at])
	}
}

// literalPadFixture is testdata/fixtures/literal_pad.json (python/reference/make_literal_pad.py):
// texts with a literal "[PAD]", sentence-transformers' token ids and vectors.
type literalPadFixture struct {
	Cases []struct {
		Text      string    `json:"text"`
		IDs       []int32   `json:"ids"`
		Mask      []int32   `json:"attention_mask"`
		Positions []int     `json:"literal_pad_positions"`
		Embedding []float32 `json:"embedding"`
	} `json:"cases"`
}

// literalPadAsZero feeds a single-input package the padded ids as they are, so that a
// literal [PAD] arrives as 0, the padding id: what a caller that skipped
// coreml.SingleInputIDs would send. The negative control of TestSingleInputLiteralPad.
type literalPadAsZero struct{ *mil.Backend }

func (b literalPadAsZero) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	ids := mil.NewTensor(mlpackage.Int32, []int{in.Rows, in.Shape.Seq})
	for i := range ids.Data {
		ids.Data[i] = float32(in.IDs[i])
	}
	res, err := b.Program.Run(map[string]*mil.Tensor{coreml.InputIDsName: ids})
	if err != nil {
		return err
	}
	copy(out, res[coreml.OutputName].Data)
	return nil
}

// TestSingleInputLiteralPad: texts holding a literal "[PAD]" (id 0 with attention mask 1 in
// Hugging Face's and our tokenizer) get sentence-transformers' vector through the
// single-input model, because the backend sends that token as -1; sent as 0, the model's
// derived mask would hide it and the vector would differ.
func TestSingleInputLiteralPad(t *testing.T) {
	pkg := packageFromEnv(t, envSingleInput)
	modelDir := testmodel.ModelDir(t)
	b, err := os.ReadFile(testmodel.RepoFile(t, "testdata/fixtures/literal_pad.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx literalPadFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("literal_pad.json has no cases")
	}
	tok, err := tokenizer.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(fx.Cases))
	for i, c := range fx.Cases {
		texts[i] = c.Text
		// The premise: our tokenizer, like Hugging Face's, gives the literal [PAD] id 0 inside the text.
		enc, err := tok.Encode(c.Text, 256)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(enc.IDs, c.IDs) {
			t.Fatalf("%q: Go tokenizer ids %v, Hugging Face %v", c.Text, enc.IDs, c.IDs)
		}
		for _, p := range c.Positions {
			if c.IDs[p] != coreml.PadID || c.Mask[p] != 1 || p == 0 || p == len(c.IDs)-1 {
				t.Fatalf("%q: position %d is not an inner [PAD] with mask 1", c.Text, p)
			}
		}
	}
	newBackend := func() *mil.Backend {
		be, err := mil.NewBackendFromPackage(pkg, mil.WithFP16(true))
		if err != nil {
			t.Fatal(err)
		}
		return be
	}
	right := embedWith(t, newBackend(), modelDir, texts)
	wrong := embedWith(t, literalPadAsZero{newBackend()}, modelDir, texts)
	for i, c := range fx.Cases {
		good := float64(embed.Cosine(right[i], c.Embedding))
		bad := float64(embed.Cosine(wrong[i], c.Embedding))
		t.Logf("%q: cosine with sentence-transformers %.7f (literal [PAD] as -1), %.7f (as 0)", c.Text, good, bad)
		if !(good >= singleInputMinCos) {
			t.Errorf("%q: cosine %.7f < %g with the literal [PAD] encoded as %d", c.Text, good, singleInputMinCos, coreml.LiteralPadID)
		}
		if !(bad < singleInputMinCos) {
			t.Errorf("%q: sending the literal [PAD] as 0 still gives cosine %.7f: the test cannot tell the encodings apart", c.Text, bad)
		}
	}
}
