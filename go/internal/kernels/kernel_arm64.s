//go:build !purego

#include "textflag.h"

// NEON (ASIMD) SGEMM micro-kernels for arm64, the counterparts of kernelAVX2 and
// kernelAVX2x4 (kernel_amd64.s) on the same packed layout: panels of nr=16 columns, each k
// step of a panel 16 contiguous float32 values = 4 vector registers of 4 lanes.
//
// Per k step: one VLD1 of the 4 B vectors, one VLD1R (load and replicate to 4 lanes) of
// A[r][k] per row, then 4 VFMLA (FMLA Vd.4S += Vn.4S·Vm.4S) per row. Go's assembler has no
// by-element FMLA (Vm.S[lane]; its VFMLA takes whole arrangements only), hence the
// replicating loads.

// A 6-row step: B in V24..V27, A[r][k] broadcast in V28..V31 (rows 4, 5 reuse V28, V29),
// row r of C accumulated in V(4r)..V(4r+3).
#define ROW(av, c0, c1, c2, c3) \
	VFMLA V24.S4, av, c0; \
	VFMLA V25.S4, av, c1; \
	VFMLA V26.S4, av, c2; \
	VFMLA V27.S4, av, c3

// func kernelNEON(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32)
//
// 6×16 tile: C[r][0:16] = init[r] + Σ_{k<kc} a[r*lda+k] · b[16k:16k+16] for r < 6, where
// init[r] is bias[0:16] when bias != nil and C[r][0:16] otherwise. kc ≥ 1.
TEXT ·kernelNEON(SB), NOSPLIT, $0-56
	MOVD kc+0(FP), R0
	MOVD a+8(FP), R1
	MOVD lda+16(FP), R11
	LSL  $2, R11
	MOVD b+24(FP), R7
	MOVD c+32(FP), R8
	MOVD ldc+40(FP), R9
	LSL  $2, R9
	MOVD bias+48(FP), R10

	ADD R11, R1, R2 // R1..R6: rows 0..5 of A
	ADD R11, R2, R3
	ADD R11, R3, R4
	ADD R11, R4, R5
	ADD R11, R5, R6

	CBZ  R10, loadc
	VLD1 (R10), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R10), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1 (R10), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1 (R10), [V12.S4, V13.S4, V14.S4, V15.S4]
	VLD1 (R10), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1 (R10), [V20.S4, V21.S4, V22.S4, V23.S4]
	B    loop

loadc:
	MOVD   R8, R12
	VLD1.P (R12)(R9), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P (R12)(R9), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P (R12)(R9), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1.P (R12)(R9), [V12.S4, V13.S4, V14.S4, V15.S4]
	VLD1.P (R12)(R9), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1   (R12), [V20.S4, V21.S4, V22.S4, V23.S4]

loop:
	VLD1.P  64(R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1R.P 4(R1), [V28.S4]
	VLD1R.P 4(R2), [V29.S4]
	VLD1R.P 4(R3), [V30.S4]
	VLD1R.P 4(R4), [V31.S4]
	ROW(V28.S4, V0.S4, V1.S4, V2.S4, V3.S4)
	ROW(V29.S4, V4.S4, V5.S4, V6.S4, V7.S4)
	VLD1R.P 4(R5), [V28.S4]
	VLD1R.P 4(R6), [V29.S4]
	ROW(V30.S4, V8.S4, V9.S4, V10.S4, V11.S4)
	ROW(V31.S4, V12.S4, V13.S4, V14.S4, V15.S4)
	ROW(V28.S4, V16.S4, V17.S4, V18.S4, V19.S4)
	ROW(V29.S4, V20.S4, V21.S4, V22.S4, V23.S4)
	SUBS    $1, R0
	BNE     loop

	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], (R8)(R9)
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], (R8)(R9)
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], (R8)(R9)
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], (R8)(R9)
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], (R8)(R9)
	VST1   [V20.S4, V21.S4, V22.S4, V23.S4], (R8)
	RET

// func kernelNEONx4(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32)
//
// kernelNEON for a 4×16 tile (the remainder rows of a block), accumulators V0..V15.
TEXT ·kernelNEONx4(SB), NOSPLIT, $0-56
	MOVD kc+0(FP), R0
	MOVD a+8(FP), R1
	MOVD lda+16(FP), R11
	LSL  $2, R11
	MOVD b+24(FP), R7
	MOVD c+32(FP), R8
	MOVD ldc+40(FP), R9
	LSL  $2, R9
	MOVD bias+48(FP), R10

	ADD R11, R1, R2 // R1..R4: rows 0..3 of A
	ADD R11, R2, R3
	ADD R11, R3, R4

	CBZ  R10, loadc4
	VLD1 (R10), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R10), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1 (R10), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1 (R10), [V12.S4, V13.S4, V14.S4, V15.S4]
	B    loop4

loadc4:
	MOVD   R8, R12
	VLD1.P (R12)(R9), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P (R12)(R9), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P (R12)(R9), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1   (R12), [V12.S4, V13.S4, V14.S4, V15.S4]

loop4:
	VLD1.P  64(R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1R.P 4(R1), [V28.S4]
	VLD1R.P 4(R2), [V29.S4]
	VLD1R.P 4(R3), [V30.S4]
	VLD1R.P 4(R4), [V31.S4]
	ROW(V28.S4, V0.S4, V1.S4, V2.S4, V3.S4)
	ROW(V29.S4, V4.S4, V5.S4, V6.S4, V7.S4)
	ROW(V30.S4, V8.S4, V9.S4, V10.S4, V11.S4)
	ROW(V31.S4, V12.S4, V13.S4, V14.S4, V15.S4)
	SUBS    $1, R0
	BNE     loop4

	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], (R8)(R9)
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], (R8)(R9)
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], (R8)(R9)
	VST1   [V12.S4, V13.S4, V14.S4, V15.S4], (R8)
	RET
