package mil

import (
	"github.com/minilm-coreml/minilm/go/mlpackage"
)

// ReplaceMaskConstant rewrites, in the decoded program, every scalar -10000 operand of a
// mul (the additive attention mask scale of the converted encoder) as a float32 constant v.
// Tests and the gate's broken-variant demonstration use it to rebuild the classic float16
// failure: transformers' finfo(float32).min mask, which float16 turns into -Inf and then
// 0·(-Inf) = NaN. It reports whether a constant was replaced.
func ReplaceMaskConstant(p *mlpackage.Package, v float32) bool {
	fn := p.Model.Program.Functions["main"]
	if fn == nil {
		return false
	}
	blk, err := fn.Block()
	if err != nil {
		return false
	}
	consts := map[string]*mlpackage.Operation{}
	for _, op := range blk.Operations {
		if op.Type == "const" && len(op.Outputs) == 1 {
			consts[op.Outputs[0].Name] = op
		}
	}
	isMask := func(val *mlpackage.Value) bool {
		c, err := mlpackage.ImmediateConst(val)
		return err == nil && len(c.Values) == 1 && c.Values[0] == -10000
	}
	repl := &mlpackage.Value{
		Type:          &mlpackage.ValueType{Kind: 1, Tensor: &mlpackage.TensorType{DataType: mlpackage.Float32}},
		ImmediateKind: 1,
		Immediate:     &mlpackage.TensorValue{Kind: 1, Floats: []float32{v}},
	}
	done := false
	for _, op := range blk.Operations {
		if op.Type != "mul" {
			continue
		}
		for _, name := range []string{"x", "y"} {
			for i, b := range op.Inputs[name] {
				switch {
				case b.Value != nil && isMask(b.Value):
					op.Inputs[name][i].Value = repl
					done = true
				case b.Value == nil && consts[b.Name] != nil && isMask(consts[b.Name].Attributes["val"]):
					consts[b.Name].Attributes["val"] = repl
					done = true
				}
			}
		}
	}
	return done
}
