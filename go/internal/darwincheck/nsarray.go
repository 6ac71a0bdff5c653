package darwincheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"
	"strings"
)

// darwinkitPrefix is the import path prefix of the bindings whose slice conversion is unsafe.
const darwinkitPrefix = "github.com/progrium/darwinkit/"

// The NSArray rule.
//
// darwinkit v0.5.0 turns every NSArray it hands to Go into a slice with objc.ToGoSlice, which
// calls to_c_array (objc/type_convertion.m). For an array of count 0, to_c_array returns its
// `array` struct without initialising it, and ToGoSlice trusts the garbage length
// (objc/type_convertion.go, ToGoSlice): undefined behaviour, seen as "cannot allocate
// 99010677309440-byte block" in darwinkit issue #278. Core ML returns empty NSArrays where a
// shape is symbolic (MLMultiArrayConstraint.shape of last_hidden_state), so no darwin code may
// let darwinkit convert an NSArray. Code reads arrays through one helper that sends `count`
// and `objectAtIndex:` itself (go/backend/coreml: nsArray).
//
// The rule flags every use in a checked package of a darwinkit function or method
//   - whose results contain a slice other than []byte (NSData, converted by ToGoBytes, is
//     safe): generated getters such as MLMultiArrayConstraint.Shape, and objc.Call
//     instantiated with a slice type; or
//   - that takes a func argument (a block) with a slice parameter: darwinkit converts block
//     arguments with the same ToGoSlice.
//
// It is a use, not a call, that is flagged, so a method value (f := c.Shape) is caught too.
// Maps are not flagged: ToGoMap's to_c_items sets the length for empty dictionaries, unless
// their keys or values are slices.

type violation struct {
	pos token.Position
	msg string
}

// nsArrayViolations returns the uses of darwinkit API that convert an NSArray to a Go slice.
func nsArrayViolations(fset *token.FileSet, files []*ast.File, info *types.Info) []violation {
	var out []violation
	for id, obj := range info.Uses {
		fn, ok := obj.(*types.Func)
		if !ok || fn.Pkg() == nil || !strings.HasPrefix(fn.Pkg().Path()+"/", darwinkitPrefix) {
			continue
		}
		sig, _ := fn.Type().(*types.Signature)
		if inst, ok := info.Instances[id]; ok {
			if s, ok := inst.Type.(*types.Signature); ok {
				sig = s
			}
		}
		if sig == nil {
			continue
		}
		name := fn.Name()
		if recv := sig.Recv(); recv != nil {
			name = types.TypeString(recv.Type(), func(p *types.Package) string { return p.Name() }) + "." + name
		} else {
			name = fn.Pkg().Name() + "." + name
		}
		if t := sliceIn(sig.Results()); t != nil {
			out = append(out, violation{fset.Position(id.Pos()), fmt.Sprintf(
				"%s returns %s: darwinkit converts an NSArray with ToGoSlice, undefined for an empty array (to_c_array, darwinkit issue #278); read the NSArray with objc.Call and the nsArray helper (count first)",
				name, types.TypeString(t, qualifier))})
		}
	}
	// Block arguments: darwinkit's generic objc.Call takes ...any, so a block's type shows only
	// at the call's argument, not in the callee's signature.
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			id := calleeIdent(call.Fun)
			if id == nil {
				return true
			}
			fn, ok := info.Uses[id].(*types.Func)
			if !ok || fn.Pkg() == nil || !strings.HasPrefix(fn.Pkg().Path()+"/", darwinkitPrefix) {
				return true
			}
			for _, arg := range call.Args {
				fs, ok := info.TypeOf(arg).(*types.Signature)
				if !ok {
					if t := info.TypeOf(arg); t != nil {
						fs, _ = t.Underlying().(*types.Signature)
					}
				}
				if fs == nil {
					continue
				}
				if t := sliceIn(fs.Params()); t != nil {
					out = append(out, violation{fset.Position(arg.Pos()), fmt.Sprintf(
						"block passed to %s.%s has a parameter of type %s: darwinkit converts block arguments with ToGoSlice, undefined for an empty NSArray; take the parameter as objc.Object and read it with the nsArray helper (count first)",
						fn.Pkg().Name(), fn.Name(), types.TypeString(t, qualifier))})
				}
			}
			return true
		})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].pos, out[j].pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return out
}

// calleeIdent returns the identifier naming a call's function: f, pkg.F, x.M, or the same
// with explicit type arguments (objc.Call[T]); nil for anything else.
func calleeIdent(e ast.Expr) *ast.Ident {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.SelectorExpr:
			return x.Sel
		case *ast.Ident:
			return x
		default:
			return nil
		}
	}
}

func qualifier(p *types.Package) string { return p.Name() }

// sliceIn returns the first slice type (other than []byte) found in the tuple's types, looking
// through maps, arrays and pointers; nil if none.
func sliceIn(tup *types.Tuple) types.Type {
	for i := 0; i < tup.Len(); i++ {
		if t := findSlice(tup.At(i).Type(), 0); t != nil {
			return t
		}
	}
	return nil
}

func findSlice(t types.Type, depth int) types.Type {
	if depth > 8 {
		return nil
	}
	switch u := t.Underlying().(type) {
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			return nil
		}
		return t
	case *types.Map:
		if s := findSlice(u.Key(), depth+1); s != nil {
			return s
		}
		return findSlice(u.Elem(), depth+1)
	case *types.Array:
		return findSlice(u.Elem(), depth+1)
	case *types.Pointer:
		return findSlice(u.Elem(), depth+1)
	}
	return nil
}
