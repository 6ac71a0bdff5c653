//go:build !purego

#include "textflag.h"

// func cvtBF16AVX512(dst *uint16, src *float32, n int)
//
// dst[i] = bf16(src[i]) for i < n, rounded to nearest even (VCVTNE2PS2BF16, AVX-512 BF16:
// denormal inputs count as zero); n is a positive multiple of 32.
TEXT ·cvtBF16AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	// VCVTNE2PS2BF16 Z0, Z1, Z2 (Go's assembler has no mnemonic; bytes from GNU as):
	// words 0-15 of Z2 from Z0, words 16-31 from Z1.
	BYTE $0x62; BYTE $0xf2; BYTE $0x77; BYTE $0x48; BYTE $0x72; BYTE $0xd0
	VMOVDQU32 Z2, (DI)
	ADDQ $128, SI
	ADDQ $64, DI
	SUBQ $32, CX
	JNZ  loop
	VZEROUPPER
	RET
