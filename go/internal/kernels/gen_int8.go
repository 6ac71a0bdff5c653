//go:build ignore

// gen_int8 writes int8_amd64.s: the int8 GEMM micro-kernels (see int8.go), one code path per
// row count, and the activation quantizer's AVX2 loops.
//
//	go run gen_int8.go && go vet .
//
// int8TileVNNI (AVX-512 VNNI) computes a tile of up to 6 rows × 64 columns (one whole
// panel): 4 zmm accumulators per row, the panel's 4 weight vectors of each 4-deep k step
// loaded once and shared by the rows, VPDPBUSD (u8 activations × s8 weights → int32).
// int8TileAVX2 computes up to 4 rows × 16 columns (a quarter panel) with the sign trick:
// VPSIGNB moves the weight's sign onto the signed activation, VPABSB makes the weight
// unsigned, so VPMADDUBSW multiplies |w| ≤ 127 by |a| ≤ 127 and a pair sum is at most
// 2·127·127 = 32258 < 32767: it cannot saturate, and the int32 sums equal the VNNI ones.
// VPMADDWD with ones widens the pairs to int32. int8TileAVXVNNI computes the AVX2 tile with
// AVX-VNNI's VPDPBUSD, written as bytes (Go's assembler only knows the EVEX form).
//
// Both end with the same epilogue, in float32:
//
//	C[r][j] = rs[r] · (cs[j]·acc[r][j] + rz[r]·cw[j]) + bias[j]
//
// where acc[r][j] = Σ_k (q[r][k] − 128)·w[j][k] (the VNNI kernels start their sums at
// ini[j] = −128·Σ_k w[j][k] to remove the unsigned offset).
package main

import (
	"bytes"
	"fmt"
	"os"
)

var out bytes.Buffer

// prefetch is how far ahead (bytes of the weight panel) the VNNI kernel prefetches; 0: not.
const prefetch = 4096

func p(format string, args ...interface{}) { fmt.Fprintf(&out, format+"\n", args...) }

// aRow is the address of row r (< 6) of A at byte offset off: rows 0-2 from SI, 3-5 from R8,
// stride BX.
func aRow(r, off int) string {
	base := "SI"
	if r >= 3 {
		base = "R8"
	}
	o := ""
	if off != 0 {
		o = fmt.Sprint(off)
	}
	switch r % 3 {
	case 0:
		return fmt.Sprintf("%s(%s)", o, base)
	case 1:
		return fmt.Sprintf("%s(%s)(BX*1)", o, base)
	}
	return fmt.Sprintf("%s(%s)(BX*2)", o, base)
}

// cRow is the address of row r of C at byte offset off: rows 0-2 from DX, 3-5 from R10,
// stride R9.
func cRow(r, off int) string {
	base := "DX"
	if r >= 3 {
		base = "R10"
	}
	o := ""
	if off != 0 {
		o = fmt.Sprint(off)
	}
	switch r % 3 {
	case 0:
		return fmt.Sprintf("%s(%s)", o, base)
	case 1:
		return fmt.Sprintf("%s(%s)(R9*1)", o, base)
	}
	return fmt.Sprintf("%s(%s)(R9*2)", o, base)
}

func prologue() {
	p("\tMOVQ rows+0(FP), AX")
	p("\tMOVQ k4+8(FP), CX")
	p("\tMOVQ a+16(FP), SI")
	p("\tMOVQ lda+24(FP), BX")
	p("\tLEAQ (SI)(BX*2), R8")
	p("\tADDQ BX, R8") // row 3
	p("\tMOVQ w+32(FP), DI")
}

// epilogueSetup loads C's row pointers and the epilogue's column vectors' base pointers.
func epilogueSetup() {
	p("\tMOVQ c+40(FP), DX")
	p("\tMOVQ ldc+48(FP), R9")
	p("\tSHLQ $2, R9")
	p("\tLEAQ (DX)(R9*2), R10")
	p("\tADDQ R9, R10")
	p("\tMOVQ rs+64(FP), R11")
	p("\tMOVQ rz+72(FP), R12")
	p("\tMOVQ cs+80(FP), R13")
	p("\tMOVQ cw+88(FP), AX")
	p("\tMOVQ bias+96(FP), BX")
}

func vnni() {
	p("// func int8TileVNNI(%s)", "rows, k4 int, a *uint8, lda int, w *int8, c *float32, ldc int, ini *int32, rs, rz, cs, cw, bias *float32")
	p("// Requires: AVX512F, AVX512VNNI")
	p("TEXT ·int8TileVNNI(SB), NOSPLIT, $0-104")
	prologue()
	for rows := 6; rows >= 1; rows-- {
		if rows > 1 {
			p("\tCMPQ AX, $%d", rows)
			p("\tJEQ vnni%d", rows)
		}
	}
	p("\tJMP vnni1")
	for rows := 1; rows <= 6; rows++ {
		p("vnni%d:", rows)
		// Accumulators Z(4r+j) start at ini.
		p("\tMOVQ ini+56(FP), DX")
		for j := 0; j < 4; j++ {
			p("\tVMOVDQU32 %d(DX), Z%d", 64*j, 24+j)
		}
		for r := 0; r < rows; r++ {
			for j := 0; j < 4; j++ {
				p("\tVMOVDQA32 Z%d, Z%d", 24+j, 4*r+j)
			}
		}
		p("vnni%dloop:", rows)
		for j := 0; j < 4; j++ {
			p("\tVMOVDQU32 %d(DI), Z%d", 64*j, 24+j)
		}
		if prefetch > 0 {
			// The panel streams from memory on its first row tile: ask for it a few k
			// steps ahead (one prefetch per cache line).
			for j := 0; j < 4; j++ {
				p("\tPREFETCHT0 %d(DI)", prefetch+64*j)
			}
		}
		for r := 0; r < rows; r++ {
			bc := 28 + r%2
			p("\tVPBROADCASTD %s, Z%d", aRow(r, 0), bc)
			for j := 0; j < 4; j++ {
				// Z(4r+j) += Zbc (u8) · Z(24+j) (s8), four products per int32 lane.
				p("\tVPDPBUSD Z%d, Z%d, Z%d", 24+j, bc, 4*r+j)
			}
		}
		p("\tADDQ $4, SI")
		p("\tADDQ $4, R8")
		p("\tADDQ $256, DI")
		p("\tDECQ CX")
		p("\tJNZ vnni%dloop", rows)
		epilogueSetup()
		for r := 0; r < rows; r++ {
			p("\tVBROADCASTSS %d(R11), Z28", 4*r)
			p("\tVBROADCASTSS %d(R12), Z29", 4*r)
			for j := 0; j < 4; j++ {
				z := fmt.Sprintf("Z%d", 4*r+j)
				p("\tVCVTDQ2PS %s, %s", z, z)
				p("\tVMULPS %d(R13), %s, %s", 64*j, z, z)
				p("\tVFMADD231PS %d(AX), Z29, %s", 64*j, z)
				p("\tVFMADD213PS %d(BX), Z28, %s", 64*j, z)
				p("\tVMOVUPS %s, %s", z, cRow(r, 64*j))
			}
		}
		p("\tVZEROUPPER")
		p("\tRET")
	}
	p("")
}

func avx2() {
	p("// func int8TileAVX2(%s)", "rows, k4 int, a *uint8, lda int, w *int8, c *float32, ldc int, ini *int32, rs, rz, cs, cw, bias *float32")
	p("// Requires: AVX2, FMA. a holds signed bytes (q-128); w points at a quarter panel (16")
	p("// columns of a 64-column panel: k steps are 256 bytes apart); ini is not read.")
	p("TEXT ·int8TileAVX2(SB), NOSPLIT, $0-104")
	prologue()
	p("\tMOVL $0x00010001, DX")
	p("\tMOVQ DX, X12")
	p("\tVPBROADCASTD X12, Y12") // int16 ones
	for rows := 4; rows >= 2; rows-- {
		p("\tCMPQ AX, $%d", rows)
		p("\tJEQ avx%d", rows)
	}
	p("\tJMP avx1")
	for rows := 1; rows <= 4; rows++ {
		p("avx%d:", rows)
		for r := 0; r < rows; r++ {
			p("\tVPXOR Y%d, Y%d, Y%d", 2*r, 2*r, 2*r)
			p("\tVPXOR Y%d, Y%d, Y%d", 2*r+1, 2*r+1, 2*r+1)
		}
		p("avx%dloop:", rows)
		p("\tVMOVDQU (DI), Y8")
		p("\tVMOVDQU 32(DI), Y9")
		p("\tVPABSB Y8, Y10")
		p("\tVPABSB Y9, Y11")
		for r := 0; r < rows; r++ {
			p("\tVPBROADCASTD %s, Y13", aRow(r, 0))
			for h := 0; h < 2; h++ {
				t := 14 + h
				p("\tVPSIGNB Y%d, Y13, Y%d", 8+h, t)        // a·sign(w)
				p("\tVPMADDUBSW Y%d, Y%d, Y%d", t, 10+h, t) // |w| (u8) × a·sign(w) (s8), pairs → int16
				p("\tVPMADDWD Y12, Y%d, Y%d", t, t)         // pairs → int32
				p("\tVPADDD Y%d, Y%d, Y%d", t, 2*r+h, 2*r+h)
			}
		}
		p("\tADDQ $4, SI")
		p("\tADDQ $4, R8")
		p("\tADDQ $256, DI")
		p("\tDECQ CX")
		p("\tJNZ avx%dloop", rows)
		epilogueSetup()
		for r := 0; r < rows; r++ {
			p("\tVBROADCASTSS %d(R11), Y13", 4*r)
			p("\tVBROADCASTSS %d(R12), Y14", 4*r)
			for h := 0; h < 2; h++ {
				y := fmt.Sprintf("Y%d", 2*r+h)
				p("\tVCVTDQ2PS %s, %s", y, y)
				p("\tVMULPS %d(R13), %s, %s", 32*h, y, y)
				p("\tVFMADD231PS %d(AX), Y14, %s", 32*h, y)
				p("\tVFMADD213PS %d(BX), Y13, %s", 32*h, y)
				p("\tVMOVUPS %s, %s", y, cRow(r, 32*h))
			}
		}
		p("\tVZEROUPPER")
		p("\tRET")
	}
	p("")
}

// vpdpbusdVEX returns the bytes of the VEX-encoded (AVX-VNNI) VPDPBUSD ymm(dst) +=
// ymm(a) (u8) · ymm(w) (s8), which Go's assembler cannot write (it emits the EVEX form, which
// needs AVX-512): VEX.256.66.0F38.W0 50 /r (Intel SDM, "VPDPBUSD"). dst < 8, w >= 8.
func vpdpbusdVEX(dst, a, w int) string {
	if dst >= 8 || w < 8 || a > 15 {
		panic("vpdpbusdVEX: register out of the encoded range")
	}
	b1 := 0xC2                           // R̄=1 (dst<8), X̄=1, B̄=0 (w>=8), map 0F38
	b2 := (^a&15)<<3 | 1<<2 | 1          // W0, vvvv = ~a, L=1 (256 bits), pp=01 (66)
	modrm := 0xC0 | (dst&7)<<3 | (w & 7) // register-direct
	return fmt.Sprintf("BYTE $0xC4; BYTE $0x%02X; BYTE $0x%02X; BYTE $0x50; BYTE $0x%02X // VPDPBUSD Y%d, Y%d, Y%d", b1, b2, modrm, w, a, dst)
}

// avxvnni writes int8TileAVXVNNI: int8TileAVX2's tile (up to 4 rows × 16 columns) with
// AVX-VNNI's VPDPBUSD on unsigned activations, the sums starting at ini like the AVX-512 one.
func avxvnni() {
	p("// func int8TileAVXVNNI(%s)", "rows, k4 int, a *uint8, lda int, w *int8, c *float32, ldc int, ini *int32, rs, rz, cs, cw, bias *float32")
	p("// Requires: AVX2, FMA, AVX-VNNI. a holds q (unsigned); w points at a quarter panel.")
	p("TEXT ·int8TileAVXVNNI(SB), NOSPLIT, $0-104")
	prologue()
	for rows := 4; rows >= 2; rows-- {
		p("\tCMPQ AX, $%d", rows)
		p("\tJEQ vvnni%d", rows)
	}
	p("\tJMP vvnni1")
	for rows := 1; rows <= 4; rows++ {
		p("vvnni%d:", rows)
		p("\tMOVQ ini+56(FP), DX")
		for r := 0; r < rows; r++ {
			p("\tVMOVDQU (DX), Y%d", 2*r)
			p("\tVMOVDQU 32(DX), Y%d", 2*r+1)
		}
		p("vvnni%dloop:", rows)
		p("\tVMOVDQU (DI), Y8")
		p("\tVMOVDQU 32(DI), Y9")
		for r := 0; r < rows; r++ {
			a := 12 + r%2
			p("\tVPBROADCASTD %s, Y%d", aRow(r, 0), a)
			p("\t%s", vpdpbusdVEX(2*r, a, 8))
			p("\t%s", vpdpbusdVEX(2*r+1, a, 9))
		}
		p("\tADDQ $4, SI")
		p("\tADDQ $4, R8")
		p("\tADDQ $256, DI")
		p("\tDECQ CX")
		p("\tJNZ vvnni%dloop", rows)
		epilogueSetup()
		for r := 0; r < rows; r++ {
			p("\tVBROADCASTSS %d(R11), Y13", 4*r)
			p("\tVBROADCASTSS %d(R12), Y14", 4*r)
			for h := 0; h < 2; h++ {
				y := fmt.Sprintf("Y%d", 2*r+h)
				p("\tVCVTDQ2PS %s, %s", y, y)
				p("\tVMULPS %d(R13), %s, %s", 32*h, y, y)
				p("\tVFMADD231PS %d(AX), Y14, %s", 32*h, y)
				p("\tVFMADD213PS %d(BX), Y13, %s", 32*h, y)
				p("\tVMOVUPS %s, %s", y, cRow(r, 32*h))
			}
		}
		p("\tVZEROUPPER")
		p("\tRET")
	}
	p("")
}

// quant writes quantRowAVX2: dst[i] = clamp(round(src[i]·inv) + zp, 1, 255) XOR flip, for
// n a multiple of 8, rounding to nearest even (the MXCSR default).
func quant() {
	p("// func quantRowAVX2(src *float32, dst *uint8, n int, inv float32, zp int32, flip uint32)")
	p("// Requires: AVX2")
	p("TEXT ·quantRowAVX2(SB), NOSPLIT, $0-36")
	p("\tMOVQ src+0(FP), SI")
	p("\tMOVQ dst+8(FP), DI")
	p("\tMOVQ n+16(FP), CX")
	p("\tVBROADCASTSS inv+24(FP), Y0")
	p("\tMOVL zp+28(FP), AX")
	p("\tMOVQ AX, X1")
	p("\tVPBROADCASTD X1, Y1")
	p("\tMOVL flip+32(FP), AX")
	p("\tMOVQ AX, X2")
	p("\tVPBROADCASTB X2, X2")
	p("\tMOVL $1, AX")
	p("\tMOVQ AX, X3")
	p("\tVPBROADCASTD X3, Y3")
	p("\tMOVL $255, AX")
	p("\tMOVQ AX, X4")
	p("\tVPBROADCASTD X4, Y4")
	p("qloop:")
	p("\tVMULPS (SI), Y0, Y5")
	p("\tVCVTPS2DQ Y5, Y5")
	p("\tVPADDD Y1, Y5, Y5")
	p("\tVPMAXSD Y3, Y5, Y5")
	p("\tVPMINSD Y4, Y5, Y5")
	p("\tVEXTRACTI128 $1, Y5, X6")
	p("\tVPACKUSDW X6, X5, X5") // 8 × u16
	p("\tVPACKUSWB X5, X5, X5") // 8 × u8 (twice)
	p("\tVPXOR X2, X5, X5")
	p("\tMOVQ X5, (DI)")
	p("\tADDQ $32, SI")
	p("\tADDQ $8, DI")
	p("\tSUBQ $8, CX")
	p("\tJNZ qloop")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
	p("// func minMaxAVX2(src *float32, n int) (mn, mx float32)")
	p("// Requires: AVX. n is a positive multiple of 8.")
	p("TEXT ·minMaxAVX2(SB), NOSPLIT, $0-24")
	p("\tMOVQ src+0(FP), SI")
	p("\tMOVQ n+8(FP), CX")
	p("\tVMOVUPS (SI), Y0")
	p("\tVMOVAPS Y0, Y1")
	p("mmloop:")
	p("\tVMINPS (SI), Y0, Y0")
	p("\tVMAXPS (SI), Y1, Y1")
	p("\tADDQ $32, SI")
	p("\tSUBQ $8, CX")
	p("\tJNZ mmloop")
	p("\tVEXTRACTF128 $1, Y0, X2")
	p("\tVMINPS X2, X0, X0")
	p("\tVEXTRACTF128 $1, Y1, X3")
	p("\tVMAXPS X3, X1, X1")
	p("\tVPSHUFD $0x4e, X0, X2")
	p("\tVMINPS X2, X0, X0")
	p("\tVPSHUFD $0xb1, X0, X2")
	p("\tVMINPS X2, X0, X0")
	p("\tVPSHUFD $0x4e, X1, X3")
	p("\tVMAXPS X3, X1, X1")
	p("\tVPSHUFD $0xb1, X1, X3")
	p("\tVMAXPS X3, X1, X1")
	p("\tVMOVSS X0, mn+16(FP)")
	p("\tVMOVSS X1, mx+20(FP)")
	p("\tVZEROUPPER")
	p("\tRET")
}

func main() {
	p("// Code generated by gen_int8.go; DO NOT EDIT.")
	p("")
	p("//go:build !purego")
	p("")
	p("#include \"textflag.h\"")
	p("")
	vnni()
	avx2()
	avxvnni()
	quant()
	if err := os.WriteFile("int8_amd64.s", out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
