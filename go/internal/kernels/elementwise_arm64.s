//go:build !purego

#include "textflag.h"

// NEON (ASIMD) exp (softmax), erf GELU, scale, max and LayerNorm for arm64: the same
// approximations as expf and erff in mathf.go and as elementwise_amd64.s, 4 lanes at a
// time. n must be a positive multiple of 4; callers do the tail in Go.
//
// Go's arm64 assembler has no mnemonics for the vector floating-point arithmetic below
// (golang/go#41092), so these macros emit the A64 encodings (Arm ARM, "Advanced SIMD three
// same" and "two-register miscellaneous", single precision, Q=1) with register numbers as
// arguments. Each is checked by `go tool objdump`, which prints the mnemonic back.
#define FADD4(m, n, d) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d)) // FADD Vd.4S, Vn.4S, Vm.4S
#define FSUB4(m, n, d) WORD $(0x4EA0D400 | ((m)<<16) | ((n)<<5) | (d)) // FSUB Vd.4S, Vn.4S, Vm.4S (Vn - Vm)
#define FMUL4(m, n, d) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d)) // FMUL Vd.4S, Vn.4S, Vm.4S
#define FDIV4(m, n, d) WORD $(0x6E20FC00 | ((m)<<16) | ((n)<<5) | (d)) // FDIV Vd.4S, Vn.4S, Vm.4S (Vn / Vm)
#define FMAX4(m, n, d) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d)) // FMAX Vd.4S, Vn.4S, Vm.4S
#define FMIN4(m, n, d) WORD $(0x4EA0F400 | ((m)<<16) | ((n)<<5) | (d)) // FMIN Vd.4S, Vn.4S, Vm.4S
#define FADDP4(m, n, d) WORD $(0x6E20D400 | ((m)<<16) | ((n)<<5) | (d)) // FADDP Vd.4S, Vn.4S, Vm.4S
#define FMAXP4(m, n, d) WORD $(0x6E20F400 | ((m)<<16) | ((n)<<5) | (d)) // FMAXP Vd.4S, Vn.4S, Vm.4S
#define FRINTN4(n, d) WORD $(0x4E218800 | ((n)<<5) | (d)) // FRINTN Vd.4S, Vn.4S (to nearest, ties to even)
#define FCVTZS4(n, d) WORD $(0x4EA1B800 | ((n)<<5) | (d)) // FCVTZS Vd.4S, Vn.4S

// BCAST sets the 4 lanes of v to the float32 with bits c (R9 is scratch).
#define BCAST(c, v) MOVD $c, R9; VDUP R9, v

// func expSumBody(p *float32, n int, m float32) (sum float32)
// p[i] = exp(p[i] - m) for i < n; returns the sum of the new values.
TEXT ·expSumBody(SB), NOSPLIT, $0-28
	MOVD  p+0(FP), R0
	MOVD  n+8(FP), R1
	MOVWU m+16(FP), R9
	VDUP  R9, V16.S4
	BCAST(0xc2aeac4f, V17.S4) // EXPLO = -87.33654
	BCAST(0x3fb8aa3b, V18.S4) // LOG2E
	BCAST(0x3f318000, V19.S4) // LN2HI = 0.693359375
	BCAST(0x395e8083, V20.S4) // LN2LO = 0.00021219444
	BCAST(0x39506967, V21.S4) // P0 = 0.000198756915
	BCAST(0x3ab743ce, V22.S4) // P1 = 0.0013981999507
	BCAST(0x3c088908, V23.S4) // P2 = 0.0083334519073
	BCAST(0x3d2aa9c1, V24.S4) // P3 = 0.041665795894
	BCAST(0x3e2aaaaa, V25.S4) // P4 = 0.16666665459
	BCAST(0x3f000000, V26.S4) // P5 = 0.50000001201
	BCAST(0x3f800000, V27.S4) // ONE
	VEOR  V15.B16, V15.B16, V15.B16

exploop:
	VLD1    (R0), [V0.S4]
	FSUB4(16, 0, 0)           // x = v - m
	FMAX4(17, 0, 0)           // below the float32 range exp is ~0
	FMUL4(18, 0, 1)
	FRINTN4(1, 1)             // n = round(x·log2 e)
	VFMLS   V19.S4, V1.S4, V0.S4 // r = x - n·ln2_hi
	VFMLA   V20.S4, V1.S4, V0.S4 //     + n·ln2_lo
	VMOV    V22.B16, V3.B16   // p = ((((p0·r + p1)·r + p2)·r + p3)·r + p4)·r + p5
	VFMLA   V21.S4, V0.S4, V3.S4
	VMOV    V23.B16, V2.B16
	VFMLA   V3.S4, V0.S4, V2.S4
	VMOV    V24.B16, V3.B16
	VFMLA   V2.S4, V0.S4, V3.S4
	VMOV    V25.B16, V2.B16
	VFMLA   V3.S4, V0.S4, V2.S4
	VMOV    V26.B16, V3.B16
	VFMLA   V2.S4, V0.S4, V3.S4
	FMUL4(0, 0, 4)            // r²
	VMOV    V0.B16, V2.B16
	VFMLA   V3.S4, V4.S4, V2.S4 // p·r² + r
	FADD4(27, 2, 2)           //          + 1
	FCVTZS4(1, 1)
	VSHL    $23, V1.S4, V1.S4
	VADD    V27.S4, V1.S4, V1.S4 // bits of 2^n = n<<23 + bits(1.0)
	FMUL4(1, 2, 2)
	VST1.P  [V2.S4], 16(R0)
	FADD4(2, 15, 15)
	SUBS    $4, R1
	BNE     exploop

	FADDP4(15, 15, 15)
	FADDP4(15, 15, 15)
	FMOVS F15, sum+24(FP)
	RET

// func scaleBody(p *float32, n int, s float32)
TEXT ·scaleBody(SB), NOSPLIT, $0-20
	MOVD  p+0(FP), R0
	MOVD  n+8(FP), R1
	MOVWU s+16(FP), R9
	VDUP  R9, V1.S4

scaleloop:
	VLD1   (R0), [V0.S4]
	FMUL4(1, 0, 0)
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R1
	BNE    scaleloop
	RET

// func geluBody(p *float32, n int)
// p[i] = p[i]·½·(1 + erf(p[i]/√2)).
TEXT ·geluBody(SB), NOSPLIT, $0-16
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
	BCAST(0x3f3504f3, V16.S4) // RSQRT2
	BCAST(0x3f000000, V17.S4) // HALF
	BCAST(0x40800000, V18.S4) // 4.0
	BCAST(0xc0800000, V19.S4) // -4.0
	BCAST(0xaf95df0b, V20.S4) // A13 = -2.72614225801306e-10
	BCAST(0x32edffee, V21.S4) // A11 = 2.77068142495902e-08
	BCAST(0xb60cff51, V22.S4) // A9 = -2.10102402082508e-06
	BCAST(0xb86ec2d2, V23.S4) // A7 = -5.69250639462346e-05
	BCAST(0xba40ac63, V24.S4) // A5 = -0.000734990630326855
	BCAST(0xbb41a1f6, V25.S4) // A3 = -0.00295459980854025
	BCAST(0xbc83dbd4, V26.S4) // A1 = -0.0160960333262415
	BCAST(0xb77460cd, V27.S4) // B8 = -1.45660718464996e-05
	BCAST(0xb95fbd29, V28.S4) // B6 = -0.000213374055278905
	BCAST(0xbadc924e, V29.S4) // B4 = -0.00168282697438203
	BCAST(0xbbf19bf8, V30.S4) // B2 = -0.00737332916720468
	BCAST(0xbc69b6a7, V31.S4) // B0 = -0.0142647390514189

geluloop:
	VLD1  (R0), [V0.S4]
	FMUL4(16, 0, 1)           // t = x/√2
	FMIN4(18, 1, 1)
	FMAX4(19, 1, 1)           // clamp to [-4, 4]
	FMUL4(1, 1, 2)            // t²
	VMOV  V21.B16, V4.B16     // numerator, odd polynomial
	VFMLA V20.S4, V2.S4, V4.S4
	VMOV  V22.B16, V3.B16
	VFMLA V4.S4, V2.S4, V3.S4
	VMOV  V23.B16, V4.B16
	VFMLA V3.S4, V2.S4, V4.S4
	VMOV  V24.B16, V3.B16
	VFMLA V4.S4, V2.S4, V3.S4
	VMOV  V25.B16, V4.B16
	VFMLA V3.S4, V2.S4, V4.S4
	VMOV  V26.B16, V3.B16
	VFMLA V4.S4, V2.S4, V3.S4
	FMUL4(1, 3, 3)
	VMOV  V28.B16, V5.B16     // denominator, even polynomial
	VFMLA V27.S4, V2.S4, V5.S4
	VMOV  V29.B16, V6.B16
	VFMLA V5.S4, V2.S4, V6.S4
	VMOV  V30.B16, V5.B16
	VFMLA V6.S4, V2.S4, V5.S4
	VMOV  V31.B16, V6.B16
	VFMLA V5.S4, V2.S4, V6.S4
	FDIV4(6, 3, 3)            // erf(t)
	FMUL4(17, 0, 0)           // h = x/2
	VFMLA V3.S4, V0.S4, V0.S4 // h + h·erf(t)
	VST1.P [V0.S4], 16(R0)
	SUBS  $4, R1
	BNE   geluloop
	RET

// func maxBody(p *float32, n int) float32
// The largest of p[0:n] (n a positive multiple of 4; no NaNs expected).
TEXT ·maxBody(SB), NOSPLIT, $0-20
	MOVD   p+0(FP), R0
	MOVD   n+8(FP), R1
	VLD1.P 16(R0), [V0.S4]
	SUBS   $4, R1
	BEQ    maxdone

maxloop:
	VLD1.P 16(R0), [V1.S4]
	FMAX4(1, 0, 0)
	SUBS   $4, R1
	BNE    maxloop

maxdone:
	FMAXP4(0, 0, 0)
	FMAXP4(0, 0, 0)
	FMOVS F0, ret+16(FP)
	RET

// func layerNormBody(x, gamma, beta *float32, n int, eps float32)
// x = (x - mean)/sqrt(var + eps)·g + b over x[0:n] (n a positive multiple of 4), biased
// variance computed from the centred values (two passes, float32 lanes).
TEXT ·layerNormBody(SB), NOSPLIT, $0-36
	MOVD x+0(FP), R0
	MOVD gamma+8(FP), R1
	MOVD beta+16(FP), R2
	MOVD n+24(FP), R3

	// mean
	VEOR V0.B16, V0.B16, V0.B16
	MOVD R0, R4
	MOVD R3, R5

lnsum:
	VLD1.P 16(R4), [V1.S4]
	FADD4(1, 0, 0)
	SUBS   $4, R5
	BNE    lnsum
	FADDP4(0, 0, 0)
	FADDP4(0, 0, 0)
	SCVTFS R3, F2            // n as float32
	FDIVS  F2, F0, F0        // mean
	VDUP   V0.S[0], V3.S4

	// variance
	VEOR V0.B16, V0.B16, V0.B16
	MOVD R0, R4
	MOVD R3, R5

lnvar:
	VLD1.P 16(R4), [V1.S4]
	FSUB4(3, 1, 1)
	VFMLA  V1.S4, V1.S4, V0.S4
	SUBS   $4, R5
	BNE    lnvar
	FADDP4(0, 0, 0)
	FADDP4(0, 0, 0)
	FDIVS  F2, F0, F0        // var
	FMOVS  eps+32(FP), F1
	FADDS  F1, F0, F0
	FSQRTS F0, F0
	FMOVS  $(1.0), F1
	FDIVS  F0, F1, F1        // 1/sqrt(var + eps)
	VDUP   V1.S[0], V4.S4

lnnorm:
	VLD1   (R0), [V1.S4]
	FSUB4(3, 1, 1)
	FMUL4(4, 1, 1)
	VLD1.P 16(R2), [V2.S4]
	VLD1.P 16(R1), [V5.S4]
	VFMLA  V5.S4, V1.S4, V2.S4 // (x-mean)·inv·g + b
	VST1.P [V2.S4], 16(R0)
	SUBS   $4, R3
	BNE    lnnorm
	RET
