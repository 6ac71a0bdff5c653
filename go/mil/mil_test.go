package mil

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/internal/float16"
	"github.com/minilm-coreml/minilm/go/mlpackage"
	"github.com/minilm-coreml/minilm/go/plan"
)

// The tiny package (go/mlpackage/testdata, written by coremltools 9.0 with
// python/reference/make_tiny_mlpackage.py) holds the op types of the converted MiniLM
// variants at toy sizes; tiny_expected.json has NumPy's evaluation of the same graph.
const (
	tinyDir      = "../mlpackage/testdata/tiny.mlpackage"
	tinyExpected = "../mlpackage/testdata/tiny_expected.json"
)

type tinyCase struct {
	IDs    [][]int32 `json:"input_ids"`
	Mask   [][]int32 `json:"attention_mask"`
	Hidden []float32 `json:"last_hidden_state"`
}

func tinyCases(t *testing.T) []tinyCase {
	t.Helper()
	b, err := os.ReadFile(tinyExpected)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []tinyCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Cases
}

func feeds(c tinyCase) map[string]*Tensor {
	rows, seq := len(c.IDs), len(c.IDs[0])
	ids, mask := NewTensor(mlpackage.Int32, []int{rows, seq}), NewTensor(mlpackage.Int32, []int{rows, seq})
	for r := range c.IDs {
		for j := range c.IDs[r] {
			ids.Data[r*seq+j] = float32(c.IDs[r][j])
			mask.Data[r*seq+j] = float32(c.Mask[r][j])
		}
	}
	return map[string]*Tensor{InputIDs: ids, AttentionMask: mask}
}

func openTiny(t *testing.T) *mlpackage.Package {
	t.Helper()
	p, err := mlpackage.Open(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > m || d != d {
			m = d
		}
	}
	return m
}

func TestTinyMatchesNumPy(t *testing.T) {
	for _, fp16 := range []bool{false, true} {
		prog, err := Load(openTiny(t), WithFP16(fp16), WithThreads(2))
		if err != nil {
			t.Fatal(err)
		}
		tol := 2e-4
		if fp16 {
			tol = 3e-2 // every intermediate rounded to 11 significant bits
		}
		for i, c := range tinyCases(t) {
			out, err := prog.Run(feeds(c))
			if err != nil {
				t.Fatal(err)
			}
			h := out[Output]
			if h.DType != mlpackage.Float32 || len(h.Data) != len(c.Hidden) {
				t.Fatalf("case %d: output %v", i, h)
			}
			if d := maxAbsDiff(h.Data, c.Hidden); !(d <= tol) {
				t.Errorf("case %d fp16=%v: max |Go - NumPy| = %g > %g", i, fp16, d, tol)
			}
		}
		prog.Close()
	}
}

// findOp returns the first operation of the main block satisfying pred.
func findOp(t *testing.T, p *mlpackage.Package, pred func(*mlpackage.Operation) bool) *mlpackage.Operation {
	t.Helper()
	blk, err := p.Model.Program.Functions["main"].Block()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range blk.Operations {
		if pred(op) {
			return op
		}
	}
	t.Fatal("operation not found")
	return nil
}

func TestUnsupportedOpIsNamed(t *testing.T) {
	p := openTiny(t)
	op := findOp(t, p, func(op *mlpackage.Operation) bool { return op.Type == "gelu" })
	op.Type = "fancy_gelu"
	_, err := Load(p)
	if err == nil {
		t.Fatal("loading a program with an unknown op succeeded")
	}
	for _, want := range []string{"fancy_gelu", `"gelu_0"`, "operation #"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// ReplaceMaskConstant swaps the additive attention-mask constant (-10000 in the converted
// programs) for v, as a converter without the float16 mask fix would emit it
// (transformers' finfo(float32).min). It returns false if the program has no such constant.
func replaceMaskConstant(t *testing.T, p *mlpackage.Package, v float32) {
	t.Helper()
	if !ReplaceMaskConstant(p, v) {
		t.Fatal("no -10000 mask constant found")
	}
}

func TestFP16ModeCatchesFloat32MinMask(t *testing.T) {
	c := tinyCases(t)[0] // has padding: the mask matters
	for _, fp16 := range []bool{false, true} {
		p := openTiny(t)
		replaceMaskConstant(t, p, -math.MaxFloat32)
		prog, err := Load(p, WithFP16(fp16))
		if err != nil {
			t.Fatal(err)
		}
		out, err := prog.Run(feeds(c))
		prog.Close()
		if err != nil {
			t.Fatal(err)
		}
		nan := 0
		for _, v := range out[Output].Data {
			if v != v || math.IsInf(float64(v), 0) {
				nan++
			}
		}
		if fp16 && nan == 0 {
			t.Error("fp16 mode: float32-min mask gave finite output; the device would give NaN")
		}
		if !fp16 && nan != 0 {
			t.Errorf("fp32 mode: %d non-finite values with a float32-min mask", nan)
		}
	}
}

func TestBackendOnTiny(t *testing.T) {
	b, err := NewBackend(tinyDir, WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.HiddenSize() != 8 || !strings.HasPrefix(b.Name(), "mil(tiny") {
		t.Errorf("hidden %d, name %q", b.HiddenSize(), b.Name())
	}
	e, ok := b.Shapes().(plan.Enumerated)
	if !ok || len(e) != 4 {
		t.Fatalf("shapes %#v", b.Shapes())
	}
	if s, ok := e.Fit(2, 5); !ok || s != (plan.Shape{Batch: 2, Seq: 8}) {
		t.Errorf("Fit(2,5) = %v %v", s, ok)
	}
	c := tinyCases(t)[1]
	in := &backend.Input{Shape: plan.Shape{Batch: 2, Seq: 8}, Rows: 2}
	for r := range c.IDs {
		in.IDs = append(in.IDs, c.IDs[r]...)
		in.Mask = append(in.Mask, c.Mask[r]...)
	}
	out := make([]float32, 2*8*8)
	if err := b.Forward(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(out, c.Hidden); d > 2e-4 {
		t.Errorf("Forward differs from NumPy by %g", d)
	}
	// Only the first Rows rows are computed and written.
	in.Rows = 1
	out1 := make([]float32, 8*8)
	if err := b.Forward(context.Background(), in, out1); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(out1, c.Hidden[:64]); d > 2e-4 {
		t.Errorf("row 0 alone differs by %g", d)
	}
}

func TestRunErrors(t *testing.T) {
	prog, err := Load(openTiny(t))
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	c := tinyCases(t)[0]
	f := feeds(c)
	delete(f, AttentionMask)
	if _, err := prog.Run(f); err == nil || !strings.Contains(err.Error(), "missing input") {
		t.Errorf("missing input: %v", err)
	}
	f = feeds(c)
	f[InputIDs].Data[0] = 99 // outside the 16-token vocabulary
	if _, err := prog.Run(f); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("bad token id: %v", err)
	}
}

func TestBroadcastAndTranspose(t *testing.T) {
	x := &Tensor{DType: mlpackage.Float32, Shape: []int{2, 1, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	y := &Tensor{DType: mlpackage.Float32, Shape: []int{2, 1}, Data: []float32{10, 20}}
	out, err := broadcast2(x, y, func(a, b float32) float32 { return a + b })
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26}
	if len(out.Shape) != 3 || out.Shape[0] != 2 || out.Shape[1] != 2 || out.Shape[2] != 3 || maxAbsDiff(out.Data, want) != 0 {
		t.Errorf("broadcast: %v %v", out.Shape, out.Data)
	}
	p := &Program{}
	tr := transpose(p, &Tensor{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}, []int{1, 0})
	if maxAbsDiff(tr.Data, []float32{1, 4, 2, 5, 3, 6}) != 0 {
		t.Errorf("transpose: %v", tr.Data)
	}
	if _, err := broadcast2(x, &Tensor{Shape: []int{4}, Data: make([]float32, 4)}, nil); err == nil {
		t.Error("shapes [2 1 3] and [4] broadcast")
	}
}

func TestSupportedOps(t *testing.T) {
	ops := strings.Join(SupportedOps(), " ")
	for _, want := range []string{"constexpr_lut_to_dense", "constexpr_blockwise_shift_scale", "constexpr_affine_dequantize", "quantize", "dequantize", "linear", "matmul"} {
		if !strings.Contains(ops, want) {
			t.Errorf("%s not supported", want)
		}
	}
}

func TestRoundFP16MatchesReference(t *testing.T) {
	check := func(bits uint32) {
		x := math.Float32frombits(bits)
		v := []float32{x}
		roundFP16(v)
		want := float16.Round(x)
		if math.Float32bits(v[0]) != math.Float32bits(want) && !(v[0] != v[0] && want != want) {
			t.Fatalf("roundFP16(%v [%#08x]) = %v, want %v", x, bits, v[0], want)
		}
	}
	// Every exponent with a spread of mantissas, including the ties and carries.
	for e := uint32(0); e < 256; e++ {
		for _, m := range []uint32{0, 1, 0xfff, 0x1000, 0x1001, 0x2000, 0x3000, 0x7fe000, 0x7ff000, 0x7fefff, 0x7fffff, 0x123456} {
			check(e<<23 | m)
			check(1<<31 | e<<23 | m)
		}
	}
	for b := uint32(0x477fe000); b < 0x47800000; b += 0x100 { // up to 65536
		check(b)
	}
}
