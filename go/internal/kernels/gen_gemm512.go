//go:build ignore

// gen_gemm512 writes gemm512_amd64.s: the AVX-512 GEMM micro-kernels, one function per row
// count (1..12) and width (16 or 32 columns), for float32 and bfloat16 packed weights.
//
//	go run gen_gemm512.go && go vet .
//
// Each kernel computes C[r][0:w] = init[r] + Σ_{k<kc} a[r*lda+k] · B[k][0:w] for r < rows,
// init being the bias (when non-nil) or C's current values, with columns past the masks K1
// (columns 0-15) and K2 (columns 16-31) neither read nor written in C. Rows use two zmm
// accumulators each (one at width 16), so 12 rows × 32 columns take 24 of the 32 registers
// and a weight panel is read once for up to 12 rows.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
)

const maxRows = 12

// prefetch is the distance in bytes ahead of the current weights that the loop prefetches
// (0: none).
var prefetch = 4096

var out bytes.Buffer

func p(format string, args ...interface{}) { fmt.Fprintf(&out, format+"\n", args...) }

// rowAddr is the address of row r of a matrix whose rows 0,3,6,9 start at the given base
// registers and whose row stride (bytes) is in stride, plus off bytes.
func rowAddr(bases [4]string, stride string, r, off int) string {
	o := ""
	if off != 0 {
		o = fmt.Sprint(off)
	}
	b := bases[r/3]
	switch r % 3 {
	case 0:
		return fmt.Sprintf("%s(%s)", o, b)
	case 1:
		return fmt.Sprintf("%s(%s)(%s*1)", o, b, stride)
	default:
		return fmt.Sprintf("%s(%s)(%s*2)", o, b, stride)
	}
}

var (
	aBases = [4]string{"SI", "R9", "R10", "R11"}
	cBases = [4]string{"DI", "R9", "R10", "R11"}
)

// setBases points R9.. at rows 3, 6, 9 of the matrix at base with stride.
func setBases(rows int, base, stride string) {
	prev := base
	for i, r := range []string{"R9", "R10", "R11"} {
		if rows <= 3*(i+1) {
			return
		}
		p("\tLEAQ (%s)(%s*2), %s", prev, stride, r)
		p("\tADDQ %s, %s", stride, r)
		prev = r
	}
}

func acc(r, h, width int) string {
	if width == 16 {
		return fmt.Sprintf("Z%d", r)
	}
	return fmt.Sprintf("Z%d", 2*r+h)
}

// kind describes the weight element type: how one k step loads its B vectors.
type kind struct {
	name  string
	bytes int // bytes of one k step of one 16-column panel
	// loadB emits the loads of k step u (0-based within the unrolled body) into Z24 (and
	// Z25 for the second panel at width 32).
	loadB func(u, width int)
	// steps is the k steps one loop iteration covers.
	steps int
}

var f32 = kind{name: "F32", bytes: 64, steps: 2, loadB: func(u, width int) {
	p("\tVMOVUPS %d(DX), Z24", 64*u)
	if width == 32 {
		p("\tVMOVUPS %d(R8), Z25", 64*u)
	}
}}

// bf16 weights are stored as pairs of k (see PackedBF16): 32 bf16 values = 64 bytes hold
// k and k+1 of 16 columns, so one load gives two k steps; a bf16 value widened to float32
// is the value shifted left by 16 bits.
var bf16 = kind{name: "BF16", bytes: 32, steps: 2, loadB: nil}

// bf16dot multiplies bf16 weights by bf16 activations with AVX-512 BF16's VDPBF16PS: a k
// step is a pair of k (64 bytes of a panel: 16 columns × 2), and the activations are bf16
// pairs broadcast as dwords, so "kc" counts pairs and lda is in bf16 elements.
var bf16dot = kind{name: "BF16Dot", bytes: 64, steps: 2}

// aType and bType are the Go element types of a kernel's activations and weights.
func aType(k kind) string {
	if k.name == "BF16Dot" {
		return "uint16"
	}
	return "float32"
}

func bType(k kind) string {
	if k.name == "F32" {
		return "float32"
	}
	return "uint16"
}

// vdpbf16ps encodes VDPBF16PS zmm(src2), zmm(src1), zmm(dst) (Intel: VDPBF16PS zmm1, zmm2,
// zmm3/m512: EVEX.512.F3.0F38.W0 52 /r), register form without masking: Go's assembler
// has no mnemonic for it (checked with go1.19.13 and go1.26), so it is emitted as bytes,
// checked against GNU as's encoding.
func vdpbf16ps(dst, src1, src2 int) string {
	inv := func(x, bit int) int { return (^x >> bit) & 1 }
	p0 := inv(dst, 3)<<7 | inv(src2, 4)<<6 | inv(src2, 3)<<5 | inv(dst, 4)<<4 | 0b10
	p1 := (^src1&0xf)<<3 | 1<<2 | 0b10
	p2 := 0b10<<5 | inv(src1, 4)<<3
	modrm := 0b11<<6 | (dst&7)<<3 | src2&7
	return fmt.Sprintf("BYTE $0x62; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x52; BYTE $0x%02x // VDPBF16PS Z%d, Z%d, Z%d",
		p0, p1, p2, modrm, src2, src1, dst)
}

func kernel(k kind, rows, width int) {
	name := fmt.Sprintf("gemm512%sR%dW%d", k.name, rows, width)
	p("")
	p("// func %s(kc int, a *%s, lda int, b *%s, bstride int, c *float32, ldc int, bias *float32, m1, m2 int)", name, aType(k), bType(k))
	p("TEXT ·%s(SB), NOSPLIT, $0-80", name)
	p("\tMOVQ kc+0(FP), CX")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ lda+16(FP), AX")
	if aType(k) == "float32" {
		p("\tSHLQ $2, AX")
	} else {
		p("\tSHLQ $1, AX")
	}
	p("\tMOVQ b+24(FP), DX")
	p("\tMOVQ bstride+32(FP), R8")
	if k.name == "F32" {
		p("\tLEAQ (DX)(R8*4), R8")
	} else {
		p("\tLEAQ (DX)(R8*2), R8")
	}
	p("\tMOVQ c+40(FP), DI")
	p("\tMOVQ ldc+48(FP), BX")
	p("\tSHLQ $2, BX")
	p("\tMOVQ bias+56(FP), R12")
	p("\tMOVQ m1+64(FP), R13")
	p("\tKMOVW R13, K1")
	if width == 32 {
		p("\tMOVQ m2+72(FP), R13")
		p("\tKMOVW R13, K2")
	}
	halves := width / 16
	p("\tTESTQ R12, R12")
	p("\tJZ    loadc")
	for h := 0; h < halves; h++ {
		p("\tVMOVUPS %d(R12), Z%d", 64*h, 24+h)
	}
	for r := 0; r < rows; r++ {
		for h := 0; h < halves; h++ {
			p("\tVMOVAPS Z%d, %s", 24+h, acc(r, h, width))
		}
	}
	p("\tJMP   start")
	p("loadc:")
	setBases(rows, "DI", "BX")
	for r := 0; r < rows; r++ {
		for h := 0; h < halves; h++ {
			p("\tVMOVUPS.Z %s, K%d, %s", rowAddr(cBases, "BX", r, 64*h), h+1, acc(r, h, width))
		}
	}
	p("start:")
	setBases(rows, "SI", "AX")
	step := func(u int) {
		if k.name == "BF16Dot" {
			for h := 0; h < halves; h++ {
				p("\tVMOVDQU32 %d(%s), Z%d", 64*u, []string{"DX", "R8"}[h], 24+h)
			}
			for r := 0; r < rows; r++ {
				bc := 26 + r%2
				p("\tVPBROADCASTD %s, Z%d", rowAddr(aBases, "AX", r, 4*u), bc)
				for h := 0; h < halves; h++ {
					var a int
					fmt.Sscanf(acc(r, h, width), "Z%d", &a)
					p("\t%s", vdpbf16ps(a, 24+h, bc))
				}
			}
			return
		}
		if k.name == "F32" {
			k.loadB(u, width)
			for r := 0; r < rows; r++ {
				bc := 26 + r%2
				p("\tVBROADCASTSS %s, Z%d", rowAddr(aBases, "AX", r, 4*u), bc)
				for h := 0; h < halves; h++ {
					p("\tVFMADD231PS Z%d, Z%d, %s", 24+h, bc, acc(r, h, width))
				}
			}
			return
		}
		// bf16: one 64-byte load per panel holds k steps 2u' and 2u'+1 (u even: low
		// halves, after a shift; u odd: high halves, after masking).
		if u%2 == 0 {
			for h := 0; h < halves; h++ {
				reg := []string{"DX", "R8"}[h]
				p("\tVMOVDQU32 %d(%s), Z%d", 64*(u/2), reg, 28+h)
				p("\tVPSLLD $16, Z%d, Z%d", 28+h, 24+h)
			}
		} else {
			for h := 0; h < halves; h++ {
				p("\tVPANDD Z30, Z%d, Z%d", 28+h, 24+h)
			}
		}
		for r := 0; r < rows; r++ {
			bc := 26 + r%2
			p("\tVBROADCASTSS %s, Z%d", rowAddr(aBases, "AX", r, 4*u), bc)
			for h := 0; h < halves; h++ {
				p("\tVFMADD231PS Z%d, Z%d, %s", 24+h, bc, acc(r, h, width))
			}
		}
	}
	advance := func(steps int) {
		for i := 0; i < 4 && i*3 < rows; i++ {
			p("\tADDQ $%d, %s", 4*steps, aBases[i])
		}
		bstep := k.bytes * steps
		p("\tADDQ $%d, DX", bstep)
		if width == 32 {
			p("\tADDQ $%d, R8", bstep)
		}
	}
	if k.name == "BF16" {
		// Z30 = 0xffff0000 in every lane: keeps the high bf16 of a pair.
		p("\tMOVL $0xffff0000, R13")
		p("\tVPBROADCASTD R13, Z30")
	}
	p("\tCMPQ CX, $2")
	p("\tJLT  tail")
	p("loop:")
	if prefetch > 0 {
		// Software prefetch of the weights a few hundred bytes ahead: at small row counts
		// the kernel consumes a panel faster than the hardware prefetcher fetches it.
		for h := 0; h < halves; h++ {
			reg := []string{"DX", "R8"}[h]
			for off := 0; off < 2*k.bytes; off += 64 {
				p("\tPREFETCHT0 %d(%s)", prefetch+off, reg)
			}
		}
	}
	step(0)
	step(1)
	advance(2)
	p("\tSUBQ $2, CX")
	p("\tCMPQ CX, $2")
	p("\tJGE  loop")
	p("tail:")
	p("\tTESTQ CX, CX")
	p("\tJZ    store")
	step(0)
	p("store:")
	setBases(rows, "DI", "BX")
	for r := 0; r < rows; r++ {
		for h := 0; h < halves; h++ {
			p("\tVMOVUPS %s, K%d, %s", acc(r, h, width), h+1, rowAddr(cBases, "BX", r, 64*h))
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
}

func main() {
	if len(os.Args) > 1 {
		fmt.Sscan(os.Args[1], &prefetch)
	}
	p("// Code generated by gen_gemm512.go; DO NOT EDIT.")
	p("")
	p("//go:build !purego")
	p("")
	p("#include \"textflag.h\"")
	for _, k := range []kind{f32, bf16, bf16dot} {
		for _, w := range []int{16, 32} {
			for r := 1; r <= maxRows; r++ {
				kernel(k, r, w)
			}
		}
	}
	if err := os.WriteFile("gemm512_amd64.s", out.Bytes(), 0o644); err != nil {
		panic(err)
	}
	// The Go declarations and the dispatch tables.
	var g bytes.Buffer
	fmt.Fprintf(&g, "// Code generated by gen_gemm512.go; DO NOT EDIT.\n\n//go:build !purego\n\npackage kernels\n")
	for _, k := range []kind{f32, bf16, bf16dot} {
		typ := bType(k)
		atyp := aType(k)
		for _, w := range []int{16, 32} {
			for r := 1; r <= maxRows; r++ {
				fmt.Fprintf(&g, "\n//go:noescape\nfunc gemm512%sR%dW%d(kc int, a *%s, lda int, b *%s, bstride int, c *float32, ldc int, bias *float32, m1, m2 int)\n", k.name, r, w, atyp, typ)
			}
		}
		fmt.Fprintf(&g, "\n// gemm512%s[w][r-1] is the %s kernel for r rows and width 16·(w+1).\nvar gemm512%s = [2][%d]func(kc int, a *%s, lda int, b *%s, bstride int, c *float32, ldc int, bias *float32, m1, m2 int){\n", k.name, k.name, k.name, maxRows, atyp, typ)
		for _, w := range []int{16, 32} {
			fmt.Fprintf(&g, "\t{")
			for r := 1; r <= maxRows; r++ {
				fmt.Fprintf(&g, "gemm512%sR%dW%d, ", k.name, r, w)
			}
			fmt.Fprintf(&g, "},\n")
		}
		fmt.Fprintf(&g, "}\n")
	}
	src, err := format.Source(g.Bytes())
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile("gemm512_amd64.go", src, 0o644); err != nil {
		panic(err)
	}
}
