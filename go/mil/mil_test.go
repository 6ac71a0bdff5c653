package mil

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/backend/coreml"
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
	return map[string]*Tensor{coreml.InputIDsName: ids, coreml.AttentionMaskName: mask}
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
			h := out[coreml.OutputName]
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
		for _, v := range out[coreml.OutputName].Data {
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
	delete(f, coreml.AttentionMaskName)
	if _, err := prog.Run(f); err == nil || !strings.Contains(err.Error(), "missing input") {
		t.Errorf("missing input: %v", err)
	}
	f = feeds(c)
	f[coreml.InputIDsName].Data[0] = 99 // outside the 16-token vocabulary
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

// tiny_single.mlpackage is tiny.mlpackage's program with the converter's single-input
// interface (input_ids alone; mask = ids != 0, embeddings at max(ids, 0)); its expected
// outputs are NumPy's for the same (ids, mask) as the two-input program, with a literal
// [PAD] (id 0, mask 1) inside row 0.
const (
	tinySingleDir      = "../mlpackage/testdata/tiny_single.mlpackage"
	tinySingleExpected = "../mlpackage/testdata/tiny_single_expected.json"
)

type tinySingleCase struct {
	tinyCase
	Encoded [][]int32 `json:"single_input_ids"`
}

func tinySingleCases(t *testing.T) []tinySingleCase {
	t.Helper()
	b, err := os.ReadFile(tinySingleExpected)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []tinySingleCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Cases
}

// flatInput is the backend.Input of a case's padded batch.
func flatInput(c tinyCase) *backend.Input {
	rows, seq := len(c.IDs), len(c.IDs[0])
	in := &backend.Input{Shape: plan.Shape{Batch: rows, Seq: seq}, Rows: rows}
	for r := range c.IDs {
		in.IDs = append(in.IDs, c.IDs[r]...)
		in.Mask = append(in.Mask, c.Mask[r]...)
	}
	return in
}

// TestTinySingleInput checks the single-input program three ways: run on the encoded ids it
// matches NumPy; through Backend.Forward (which encodes with coreml.SingleInputIDs) it gives
// the two-input program's output for the same (ids, mask); and fed the raw ids, where the
// literal [PAD] is 0, it does not (the derived mask then hides that token).
func TestTinySingleInput(t *testing.T) {
	cases := tinySingleCases(t)
	for _, fp16 := range []bool{false, true} {
		tol := 2e-4
		if fp16 {
			tol = 3e-2
		}
		single, err := NewBackend(tinySingleDir, WithFP16(fp16), WithThreads(1))
		if err != nil {
			t.Fatal(err)
		}
		two, err := NewBackend(tinyDir, WithFP16(fp16), WithThreads(1))
		if err != nil {
			t.Fatal(err)
		}
		if !single.SingleInput() || two.SingleInput() {
			t.Fatalf("SingleInput: single %v, two %v", single.SingleInput(), two.SingleInput())
		}
		for i, c := range cases {
			rows, seq := len(c.IDs), len(c.IDs[0])
			// 1. The program on the encoded ids, against NumPy.
			enc := NewTensor(mlpackage.Int32, []int{rows, seq})
			for r := range c.Encoded {
				for j, v := range c.Encoded[r] {
					enc.Data[r*seq+j] = float32(v)
				}
			}
			res, err := single.Program.Run(map[string]*Tensor{coreml.InputIDsName: enc})
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(res[coreml.OutputName].Data, c.Hidden); !(d <= tol) {
				t.Errorf("case %d fp16=%v: encoded ids: max |Go - NumPy| = %g > %g", i, fp16, d, tol)
			}
			// 2. Backend.Forward encodes (ids, mask) itself and equals the two-input model.
			in := flatInput(c.tinyCase)
			got, want := make([]float32, rows*seq*8), make([]float32, rows*seq*8)
			if err := single.Forward(context.Background(), in, got); err != nil {
				t.Fatal(err)
			}
			if err := two.Forward(context.Background(), in, want); err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(got, want); !(d <= tol) {
				t.Errorf("case %d fp16=%v: single-input Forward differs from two-input by %g", i, fp16, d)
			}
			if d := maxAbsDiff(got, c.Hidden); !(d <= tol) {
				t.Errorf("case %d fp16=%v: single-input Forward differs from NumPy by %g", i, fp16, d)
			}
			// 3. Negative control: the raw ids (literal [PAD] as 0) change the real tokens.
			raw := NewTensor(mlpackage.Int32, []int{rows, seq})
			for k, v := range in.IDs {
				raw.Data[k] = float32(v)
			}
			res, err = single.Program.Run(map[string]*Tensor{coreml.InputIDsName: raw})
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(res[coreml.OutputName].Data[:seq*8], c.Hidden[:seq*8]); d < 10*tol {
				t.Errorf("case %d fp16=%v: raw ids (literal [PAD] as 0) give the same row 0 (max diff %g)", i, fp16, d)
			}
		}
		single.Close()
		two.Close()
	}
}

func TestCompareAndExtremumOps(t *testing.T) {
	nan := float32(math.NaN())
	x := &Tensor{DType: mlpackage.Int32, Shape: []int{2, 3}, Data: []float32{-1, 0, 5, 30521, 0, -7}}
	zero := &Tensor{DType: mlpackage.Int32, Shape: []int{}, Data: []float32{0}}
	f := &Tensor{DType: mlpackage.Float32, Shape: []int{3}, Data: []float32{nan, 1, -2}}
	g := &Tensor{DType: mlpackage.Float32, Shape: []int{3}, Data: []float32{0, nan, -3}}
	for _, tc := range []struct {
		op   string
		x, y *Tensor
		want []float32
	}{
		{"maximum", x, zero, []float32{0, 0, 5, 30521, 0, 0}},
		{"minimum", x, zero, []float32{-1, 0, 0, 0, 0, -7}},
		{"not_equal", x, zero, []float32{1, 0, 1, 1, 0, 1}},
		{"equal", x, zero, []float32{0, 1, 0, 0, 1, 0}},
		{"maximum", f, g, []float32{nan, nan, -2}},
		{"minimum", f, g, []float32{nan, nan, -3}},
		{"not_equal", f, g, []float32{1, 1, 1}},
	} {
		outs, err := opTable[tc.op](&Program{}, &step{}, args{"x": {tc.x}, "y": {tc.y}})
		if err != nil {
			t.Fatalf("%s: %v", tc.op, err)
		}
		got := outs[0].Data
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %v", tc.op, got)
		}
		for i := range got {
			if got[i] != tc.want[i] && !(got[i] != got[i] && tc.want[i] != tc.want[i]) {
				t.Errorf("%s(%v, %v) = %v, want %v", tc.op, tc.x.Data, tc.y.Data, got, tc.want)
				break
			}
		}
	}
}

// TestIOS17ConstexprAttributes runs tiny_ios17.mlpackage, an iOS 17 (specification version
// 8) program as the macOS 14 packages are: its constexpr_affine_dequantize carries its
// operands as attributes, which Load must read (the int8 variants' weights arrive this way).
func TestIOS17ConstexprAttributes(t *testing.T) {
	const dir = "../mlpackage/testdata/tiny_ios17.mlpackage"
	b, err := os.ReadFile("../mlpackage/testdata/tiny_ios17_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		IDs    [][]int32 `json:"input_ids"`
		Hidden []float32 `json:"last_hidden_state"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	pkg, err := mlpackage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Model.SpecificationVersion != 8 {
		t.Fatalf("specification version %d, want 8", pkg.Model.SpecificationVersion)
	}
	op := findOp(t, pkg, func(op *mlpackage.Operation) bool { return op.Type == "constexpr_affine_dequantize" })
	if len(op.Inputs) != 0 || op.Attributes["quantized_data"] == nil {
		t.Fatalf("constexpr_affine_dequantize: inputs %v, attributes %d: not the iOS 17 form", op.Inputs, len(op.Attributes))
	}
	prog, err := Load(pkg)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	rows, seq := len(want.IDs), len(want.IDs[0])
	ids := NewTensor(mlpackage.Int32, []int{rows, seq})
	for r := range want.IDs {
		for j, v := range want.IDs[r] {
			ids.Data[r*seq+j] = float32(v)
		}
	}
	res, err := prog.Run(map[string]*Tensor{coreml.InputIDsName: ids})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(res[coreml.OutputName].Data, want.Hidden); d != 0 {
		t.Errorf("max |Go - NumPy| = %g, want 0 (same float16 weights)", d)
	}
}
