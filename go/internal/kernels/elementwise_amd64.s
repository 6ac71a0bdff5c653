//go:build !purego

#include "textflag.h"

// Vectorized exp (softmax) and erf GELU, the same approximations as expf and erff in
// mathf.go, 8 lanes at a time. n must be a positive multiple of 8; callers do the tail in Go.

DATA sconst<>+0(SB)/4, $0xc2aeac4f // EXPLO = -87.33654
DATA sconst<>+4(SB)/4, $0x3fb8aa3b // LOG2E = 1.4426950408889634
DATA sconst<>+8(SB)/4, $0x3f318000 // LN2HI = 0.693359375
DATA sconst<>+12(SB)/4, $0x395e8083 // LN2LO = 0.00021219444
DATA sconst<>+16(SB)/4, $0x39506967 // P0 = 0.000198756915
DATA sconst<>+20(SB)/4, $0x3ab743ce // P1 = 0.0013981999507
DATA sconst<>+24(SB)/4, $0x3c088908 // P2 = 0.0083334519073
DATA sconst<>+28(SB)/4, $0x3d2aa9c1 // P3 = 0.041665795894
DATA sconst<>+32(SB)/4, $0x3e2aaaaa // P4 = 0.16666665459
DATA sconst<>+36(SB)/4, $0x3f000000 // P5 = 0.50000001201
DATA sconst<>+40(SB)/4, $0x3f800000 // ONE = 1.0
DATA sconst<>+44(SB)/4, $0x3f3504f3 // RSQRT2 = 0.7071067811865476
DATA sconst<>+48(SB)/4, $0x3f000000 // HALF = 0.5
DATA sconst<>+52(SB)/4, $0xaf95df0b // A13 = -2.72614225801306e-10
DATA sconst<>+56(SB)/4, $0x32edffee // A11 = 2.77068142495902e-08
DATA sconst<>+60(SB)/4, $0xb60cff51 // A9 = -2.10102402082508e-06
DATA sconst<>+64(SB)/4, $0xb86ec2d2 // A7 = -5.69250639462346e-05
DATA sconst<>+68(SB)/4, $0xba40ac63 // A5 = -0.000734990630326855
DATA sconst<>+72(SB)/4, $0xbb41a1f6 // A3 = -0.00295459980854025
DATA sconst<>+76(SB)/4, $0xbc83dbd4 // A1 = -0.0160960333262415
DATA sconst<>+80(SB)/4, $0xb77460cd // B8 = -1.45660718464996e-05
GLOBL sconst<>(SB), RODATA|NOPTR, $84
#define EXPLO sconst<>+0(SB)
#define LOG2E sconst<>+4(SB)
#define LN2HI sconst<>+8(SB)
#define LN2LO sconst<>+12(SB)
#define P0 sconst<>+16(SB)
#define P1 sconst<>+20(SB)
#define P2 sconst<>+24(SB)
#define P3 sconst<>+28(SB)
#define P4 sconst<>+32(SB)
#define P5 sconst<>+36(SB)
#define ONE sconst<>+40(SB)
#define RSQRT2 sconst<>+44(SB)
#define HALF sconst<>+48(SB)
#define A13 sconst<>+52(SB)
#define A11 sconst<>+56(SB)
#define A9 sconst<>+60(SB)
#define A7 sconst<>+64(SB)
#define A5 sconst<>+68(SB)
#define A3 sconst<>+72(SB)
#define A1 sconst<>+76(SB)
#define B8 sconst<>+80(SB)

DATA vconst<>+0(SB)/8, $0x4080000040800000
DATA vconst<>+8(SB)/8, $0x4080000040800000
DATA vconst<>+16(SB)/8, $0x4080000040800000
DATA vconst<>+24(SB)/8, $0x4080000040800000
DATA vconst<>+32(SB)/8, $0xc0800000c0800000
DATA vconst<>+40(SB)/8, $0xc0800000c0800000
DATA vconst<>+48(SB)/8, $0xc0800000c0800000
DATA vconst<>+56(SB)/8, $0xc0800000c0800000
DATA vconst<>+64(SB)/8, $0xb95fbd29b95fbd29
DATA vconst<>+72(SB)/8, $0xb95fbd29b95fbd29
DATA vconst<>+80(SB)/8, $0xb95fbd29b95fbd29
DATA vconst<>+88(SB)/8, $0xb95fbd29b95fbd29
DATA vconst<>+96(SB)/8, $0xbadc924ebadc924e
DATA vconst<>+104(SB)/8, $0xbadc924ebadc924e
DATA vconst<>+112(SB)/8, $0xbadc924ebadc924e
DATA vconst<>+120(SB)/8, $0xbadc924ebadc924e
DATA vconst<>+128(SB)/8, $0xbbf19bf8bbf19bf8
DATA vconst<>+136(SB)/8, $0xbbf19bf8bbf19bf8
DATA vconst<>+144(SB)/8, $0xbbf19bf8bbf19bf8
DATA vconst<>+152(SB)/8, $0xbbf19bf8bbf19bf8
DATA vconst<>+160(SB)/8, $0xbc69b6a7bc69b6a7
DATA vconst<>+168(SB)/8, $0xbc69b6a7bc69b6a7
DATA vconst<>+176(SB)/8, $0xbc69b6a7bc69b6a7
DATA vconst<>+184(SB)/8, $0xbc69b6a7bc69b6a7
GLOBL vconst<>(SB), RODATA|NOPTR, $192
#define VFOUR vconst<>+0(SB) // 4.0 ×8
#define VMFOUR vconst<>+32(SB) // -4.0 ×8
#define VB6 vconst<>+64(SB) // -0.000213374055278905 ×8
#define VB4 vconst<>+96(SB) // -0.00168282697438203 ×8
#define VB2 vconst<>+128(SB) // -0.00737332916720468 ×8
#define VB0 vconst<>+160(SB) // -0.0142647390514189 ×8

// func expSumBody(p *float32, n int, m float32) (sum float32)
// p[i] = exp(p[i] - m) for i < n; returns the sum of the new values.
TEXT ·expSumBody(SB), NOSPLIT, $0-28
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS m+16(FP), Y14
	VBROADCASTSS LOG2E, Y4
	VBROADCASTSS LN2HI, Y5
	VBROADCASTSS LN2LO, Y6
	VBROADCASTSS P0, Y7
	VBROADCASTSS P1, Y8
	VBROADCASTSS P2, Y9
	VBROADCASTSS P3, Y10
	VBROADCASTSS P4, Y11
	VBROADCASTSS P5, Y12
	VBROADCASTSS ONE, Y13
	VXORPS       Y15, Y15, Y15

exploop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y14, Y0, Y0       // x = v - m
	VBROADCASTSS EXPLO, Y3
	VMAXPS       Y3, Y0, Y0        // below the float32 range exp is ~0
	VMULPS       Y4, Y0, Y1
	VROUNDPS     $0, Y1, Y1        // n = round(x·log2 e)
	VFNMADD231PS Y5, Y1, Y0        // r = x - n·ln2_hi
	VFMADD231PS  Y6, Y1, Y0        //     + n·ln2_lo
	VMOVAPS      Y7, Y2
	VFMADD213PS  Y8, Y0, Y2        // p = ((((p0·r + p1)·r + p2)·r + p3)·r + p4)·r + p5
	VFMADD213PS  Y9, Y0, Y2
	VFMADD213PS  Y10, Y0, Y2
	VFMADD213PS  Y11, Y0, Y2
	VFMADD213PS  Y12, Y0, Y2
	VMULPS       Y0, Y0, Y3
	VFMADD213PS  Y0, Y3, Y2        // p·r² + r
	VADDPS       Y13, Y2, Y2       //          + 1
	VCVTPS2DQ    Y1, Y1
	VPSLLD       $23, Y1, Y1
	VPADDD       Y13, Y1, Y1       // bits of 2^n = n<<23 + bits(1.0)
	VMULPS       Y1, Y2, Y2
	VMOVUPS      Y2, (SI)
	VADDPS       Y2, Y15, Y15
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          exploop

	VEXTRACTF128 $1, Y15, X0
	VADDPS       X15, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	MOVSS        X0, sum+24(FP)
	VZEROUPPER
	RET

// func scaleBody(p *float32, n int, s float32)
TEXT ·scaleBody(SB), NOSPLIT, $0-20
	MOVQ         p+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1

scaleloop:
	VMULPS  (SI), Y1, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     scaleloop
	VZEROUPPER
	RET

// func geluBody(p *float32, n int)
// p[i] = p[i]·½·(1 + erf(p[i]/√2)).
TEXT ·geluBody(SB), NOSPLIT, $0-16
	MOVQ         p+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS RSQRT2, Y5
	VBROADCASTSS HALF, Y6
	VBROADCASTSS A13, Y7
	VBROADCASTSS A11, Y8
	VBROADCASTSS A9, Y9
	VBROADCASTSS A7, Y10
	VBROADCASTSS A5, Y11
	VBROADCASTSS A3, Y12
	VBROADCASTSS A1, Y13
	VMOVUPS      VB6, Y14
	VMOVUPS      VB4, Y15

geluloop:
	VMOVUPS     (SI), Y0
	VMULPS      Y5, Y0, Y1         // t = x/√2
	VMINPS      VFOUR, Y1, Y1
	VMAXPS      VMFOUR, Y1, Y1     // clamp to [-4, 4]
	VMULPS      Y1, Y1, Y2         // t²
	VMOVAPS     Y7, Y3             // numerator, odd polynomial
	VFMADD213PS Y8, Y2, Y3
	VFMADD213PS Y9, Y2, Y3
	VFMADD213PS Y10, Y2, Y3
	VFMADD213PS Y11, Y2, Y3
	VFMADD213PS Y12, Y2, Y3
	VFMADD213PS Y13, Y2, Y3
	VMULPS      Y1, Y3, Y3
	VBROADCASTSS B8, Y4            // denominator, even polynomial
	VFMADD213PS Y14, Y2, Y4
	VFMADD213PS Y15, Y2, Y4
	VFMADD213PS VB2, Y2, Y4
	VFMADD213PS VB0, Y2, Y4
	VDIVPS      Y4, Y3, Y3         // erf(t)
	VMULPS      Y6, Y0, Y0         // h = x/2
	VFMADD231PS Y3, Y0, Y0         // h + h·erf(t)
	VMOVUPS     Y0, (SI)
	ADDQ        $32, SI
	SUBQ        $8, CX
	JNZ         geluloop
	VZEROUPPER
	RET

// func maxBody(p *float32, n int) float32
// The largest of p[0:n] (n a positive multiple of 8; no NaNs expected).
TEXT ·maxBody(SB), NOSPLIT, $0-20
	MOVQ    p+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	ADDQ    $32, SI
	SUBQ    $8, CX
	JZ      maxdone

maxloop:
	VMAXPS (SI), Y0, Y0
	ADDQ   $32, SI
	SUBQ   $8, CX
	JNZ    maxloop

maxdone:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	MOVSS        X0, ret+16(FP)
	VZEROUPPER
	RET

// func layerNormBody(x, gamma, beta *float32, n int, eps float32)
// x = (x - mean)/sqrt(var + eps)·g + b over x[0:n] (n a positive multiple of 8), biased
// variance computed from the centred values (two passes, float32 lanes).
TEXT ·layerNormBody(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ gamma+8(FP), DI
	MOVQ beta+16(FP), DX
	MOVQ n+24(FP), CX

	// mean
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ   SI, R8
	MOVQ   CX, R9

lnsum:
	VADDPS (R8), Y0, Y0
	ADDQ   $32, R8
	SUBQ   $8, R9
	JNZ    lnsum
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	CVTSQ2SS     CX, X2           // n as float32
	VDIVSS       X2, X0, X0       // mean
	VBROADCASTSS X0, Y3

	// variance
	VXORPS Y0, Y0, Y0
	MOVQ   SI, R8
	MOVQ   CX, R9

lnvar:
	VMOVUPS     (R8), Y1
	VSUBPS      Y3, Y1, Y1
	VFMADD231PS Y1, Y1, Y0
	ADDQ        $32, R8
	SUBQ        $8, R9
	JNZ         lnvar
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VDIVSS       X2, X0, X0       // var
	VADDSS       eps+32(FP), X0, X0
	VSQRTSS      X0, X0, X0
	VMOVSS       ONE, X1
	VDIVSS       X0, X1, X1       // 1/sqrt(var + eps)
	VBROADCASTSS X1, Y4

lnnorm:
	VMOVUPS     (SI), Y1
	VSUBPS      Y3, Y1, Y1
	VMULPS      Y4, Y1, Y1
	VMOVUPS     (DX), Y2
	VFMADD231PS (DI), Y1, Y2      // (x-mean)·inv·g + b
	VMOVUPS     Y2, (SI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, DX
	SUBQ        $8, CX
	JNZ         lnnorm
	VZEROUPPER
	RET
