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

// AVX-512 forms of expSumBody, maxBody, geluBody and layerNormBody: the same operations on
// 16 lanes, so each lane computes exactly what the AVX2 and Go kernels compute (only the
// order of sums differs). On CPUs with full-width 512-bit units (AMD Zen 5, Intel server
// cores) they take about half the time of the 8-lane loops; softmax's exp is a third of
// attention's time at 256 tokens. expSumBody512, geluBody512 and addBody512 take any length:
// the last partial vector is loaded and stored under a mask. They broadcast the scalar
// constants above (the first lane of the vconst vectors).

// HSUM16 sets the low float of X to the sum of the 16 lanes of Z (uses Y and X1).
#define HSUM16(Z, Y, X) \
	VEXTRACTF32X8 $1, Z, Y1 \
	VADDPS        Y1, Y, Y \
	VEXTRACTF128  $1, Y, X1 \
	VADDPS        X1, X, X \
	VHADDPS       X, X, X \
	VHADDPS       X, X, X

// EXP16 replaces X with exp(X - Z14), lane by lane, as expSumBody does, using T1-T3 and the
// constants in Z4-Z13 and Z16 that expSumBody512 loads.
#define EXP16(X, T1, T2, T3) \
	VSUBPS       Z14, X, X \
	VMAXPS       Z16, X, X \
	VMULPS       Z4, X, T1 \
	VRNDSCALEPS  $0, T1, T1 \
	VFNMADD231PS Z5, T1, X \
	VFMADD231PS  Z6, T1, X \
	VMOVAPS      Z7, T2 \
	VFMADD213PS  Z8, X, T2 \
	VFMADD213PS  Z9, X, T2 \
	VFMADD213PS  Z10, X, T2 \
	VFMADD213PS  Z11, X, T2 \
	VFMADD213PS  Z12, X, T2 \
	VMULPS       X, X, T3 \
	VFMADD213PS  X, T3, T2 \
	VADDPS       Z13, T2, T2 \
	VCVTPS2DQ    T1, T1 \
	VPSLLD       $23, T1, T1 \
	VPADDD       Z13, T1, T1 \
	VMULPS       T1, T2, X

// TAILMASK sets K1 to the low CX bits (CX < 16), using AX.
#define TAILMASK \
	MOVQ  $1, AX \
	SHLQ  CX, AX \
	DECQ  AX \
	KMOVW AX, K1

// func expSumBody512(p *float32, n int, m float32) (sum float32)
// p[i] = exp(p[i] - m) for i < n (n ≥ 0); returns the sum of the new values.
TEXT ·expSumBody512(SB), NOSPLIT, $0-28
	MOVQ         p+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS m+16(FP), Z14
	VBROADCASTSS EXPLO, Z16
	VBROADCASTSS LOG2E, Z4
	VBROADCASTSS LN2HI, Z5
	VBROADCASTSS LN2LO, Z6
	VBROADCASTSS P0, Z7
	VBROADCASTSS P1, Z8
	VBROADCASTSS P2, Z9
	VBROADCASTSS P3, Z10
	VBROADCASTSS P4, Z11
	VBROADCASTSS P5, Z12
	VBROADCASTSS ONE, Z13
	VXORPS       Z15, Z15, Z15
	VXORPS       Z17, Z17, Z17
	CMPQ         CX, $32
	JLT          exp512one

exp512two: // two independent vectors per iteration
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z18
	EXP16(Z0, Z1, Z2, Z3)
	EXP16(Z18, Z19, Z20, Z21)
	VMOVUPS Z0, (SI)
	VMOVUPS Z18, 64(SI)
	VADDPS  Z0, Z15, Z15
	VADDPS  Z18, Z17, Z17
	ADDQ    $128, SI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     exp512two

exp512one:
	CMPQ    CX, $16
	JLT     exp512tail
	VMOVUPS (SI), Z0
	EXP16(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (SI)
	VADDPS  Z0, Z15, Z15
	ADDQ    $64, SI
	SUBQ    $16, CX

exp512tail: // the last 1..15 values under a mask
	TESTQ     CX, CX
	JZ        exp512done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	EXP16(Z0, Z1, Z2, Z3)
	VMOVUPS   Z0, K1, (SI)
	VADDPS    Z0, Z15, K1, Z15

exp512done:
	VADDPS Z17, Z15, Z15
	HSUM16(Z15, Y15, X15)
	MOVSS  X15, sum+24(FP)
	VZEROUPPER
	RET

// func maxBody512(p *float32, n int) float32
// The largest of p[0:n] (n a positive multiple of 16; no NaNs expected).
TEXT ·maxBody512(SB), NOSPLIT, $0-20
	MOVQ    p+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Z0
	ADDQ    $64, SI
	SUBQ    $16, CX
	JZ      max512done

max512loop:
	VMAXPS (SI), Z0, Z0
	ADDQ   $64, SI
	SUBQ   $16, CX
	JNZ    max512loop

max512done:
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VMAXPS        X1, X0, X0
	MOVSS         X0, ret+16(FP)
	VZEROUPPER
	RET

// GELU16 replaces X with X·½·(1 + erf(X/√2)), lane by lane, as geluBody does; it uses Z1-Z4.
#define GELU16(X) \
	VMULPS      Z5, X, Z1 \
	VMINPS      Z16, Z1, Z1 \
	VMAXPS      Z17, Z1, Z1 \
	VMULPS      Z1, Z1, Z2 \
	VMOVAPS     Z7, Z3 \
	VFMADD213PS Z8, Z2, Z3 \
	VFMADD213PS Z9, Z2, Z3 \
	VFMADD213PS Z10, Z2, Z3 \
	VFMADD213PS Z11, Z2, Z3 \
	VFMADD213PS Z12, Z2, Z3 \
	VFMADD213PS Z13, Z2, Z3 \
	VMULPS      Z1, Z3, Z3 \
	VMOVAPS     Z18, Z4 \
	VFMADD213PS Z14, Z2, Z4 \
	VFMADD213PS Z15, Z2, Z4 \
	VFMADD213PS Z19, Z2, Z4 \
	VFMADD213PS Z20, Z2, Z4 \
	VDIVPS      Z4, Z3, Z3 \
	VMULPS      Z6, X, X \
	VFMADD231PS Z3, X, X

// func geluBody512(p *float32, n int)
// p[i] = p[i]·½·(1 + erf(p[i]/√2)) for i < n (n ≥ 0).
TEXT ·geluBody512(SB), NOSPLIT, $0-16
	MOVQ         p+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS RSQRT2, Z5
	VBROADCASTSS HALF, Z6
	VBROADCASTSS A13, Z7
	VBROADCASTSS A11, Z8
	VBROADCASTSS A9, Z9
	VBROADCASTSS A7, Z10
	VBROADCASTSS A5, Z11
	VBROADCASTSS A3, Z12
	VBROADCASTSS A1, Z13
	VBROADCASTSS B8, Z18
	VBROADCASTSS VB6, Z14
	VBROADCASTSS VB4, Z15
	VBROADCASTSS VB2, Z19
	VBROADCASTSS VB0, Z20
	VBROADCASTSS VFOUR, Z16
	VBROADCASTSS VMFOUR, Z17
	CMPQ         CX, $16
	JLT          gelu512tail

gelu512loop:
	VMOVUPS (SI), Z0
	GELU16(Z0)
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     gelu512loop

gelu512tail: // the last 1..15 values under a mask
	TESTQ     CX, CX
	JZ        gelu512done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	GELU16(Z0)
	VMOVUPS   Z0, K1, (SI)

gelu512done:
	VZEROUPPER
	RET

// func addBody512(x, y *float32, n int)
// x[i] += y[i] for i < n (n ≥ 0).
TEXT ·addBody512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	CMPQ CX, $16
	JLT  add512tail

add512loop:
	VMOVUPS (SI), Z0
	VADDPS  (DI), Z0, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     add512loop

add512tail: // the last 1..15 values under a mask
	TESTQ     CX, CX
	JZ        add512done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DI), K1, Z1
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (SI)

add512done:
	VZEROUPPER
	RET

// func layerNormBody512(x, gamma, beta *float32, n int, eps float32)
// layerNormBody on 16 lanes (n a positive multiple of 32), with two accumulators per sum
// so that the additions of a 384-wide row do not wait on each other.
TEXT ·layerNormBody512(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ gamma+8(FP), DI
	MOVQ beta+16(FP), DX
	MOVQ n+24(FP), CX

	// mean
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	MOVQ   SI, R8
	MOVQ   CX, R9

ln512sum:
	VADDPS (R8), Z0, Z0
	VADDPS 64(R8), Z1, Z1
	ADDQ   $128, R8
	SUBQ   $32, R9
	JNZ    ln512sum
	VADDPS        Z1, Z0, Z0
	HSUM16(Z0, Y0, X0)
	CVTSQ2SS      CX, X2           // n as float32
	VDIVSS        X2, X0, X0       // mean
	VBROADCASTSS  X0, Z3

	// variance
	VXORPS Z0, Z0, Z0
	VXORPS Z5, Z5, Z5
	MOVQ   SI, R8
	MOVQ   CX, R9

ln512var:
	VMOVUPS     (R8), Z1
	VMOVUPS     64(R8), Z6
	VSUBPS      Z3, Z1, Z1
	VSUBPS      Z3, Z6, Z6
	VFMADD231PS Z1, Z1, Z0
	VFMADD231PS Z6, Z6, Z5
	ADDQ        $128, R8
	SUBQ        $32, R9
	JNZ         ln512var
	VADDPS        Z5, Z0, Z0
	HSUM16(Z0, Y0, X0)
	VDIVSS        X2, X0, X0       // var
	VADDSS        eps+32(FP), X0, X0
	VSQRTSS       X0, X0, X0
	VMOVSS        ONE, X1
	VDIVSS        X0, X1, X1       // 1/sqrt(var + eps)
	VBROADCASTSS  X1, Z4

ln512norm:
	VMOVUPS     (SI), Z1
	VSUBPS      Z3, Z1, Z1
	VMULPS      Z4, Z1, Z1
	VMOVUPS     (DX), Z2
	VFMADD231PS (DI), Z1, Z2      // (x-mean)·inv·g + b
	VMOVUPS     Z2, (SI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	SUBQ        $16, CX
	JNZ         ln512norm
	VZEROUPPER
	RET

DATA iota16<>+0(SB)/8, $0x0000000100000000
DATA iota16<>+8(SB)/8, $0x0000000300000002
DATA iota16<>+16(SB)/8, $0x0000000500000004
DATA iota16<>+24(SB)/8, $0x0000000700000006
DATA iota16<>+32(SB)/8, $0x0000000900000008
DATA iota16<>+40(SB)/8, $0x0000000b0000000a
DATA iota16<>+48(SB)/8, $0x0000000d0000000c
DATA iota16<>+56(SB)/8, $0x0000000f0000000e
GLOBL iota16<>(SB), RODATA|NOPTR, $64

// func fillNKPanel512(dst, src *float32, ldb, k, w int)
// dst[kk*16+j] = src[j*ldb+kk] for j < w and 0 for w ≤ j < 16, for kk < k (k ≥ 1,
// 1 ≤ w ≤ 16, 16·ldb < 2³¹): one packed panel of Packed.FillNK, a column of 16 values
// gathered per kk.
TEXT ·fillNKPanel512(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         ldb+16(FP), AX
	MOVQ         w+32(FP), CX
	MOVQ         $1, BX
	SHLQ         CX, BX
	DECQ         BX
	KMOVW        BX, K2           // the w valid columns
	MOVQ         k+24(FP), CX
	VPBROADCASTD AX, Z2
	VMOVDQU32    iota16<>(SB), Z1
	VPMULLD      Z2, Z1, Z1       // element offsets j·ldb

fillnkloop:
	KMOVW      K2, K1             // the gather clears its mask
	VXORPS     Z0, Z0, Z0
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VMOVUPS    Z0, (DI)
	ADDQ       $4, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        fillnkloop
	VZEROUPPER
	RET
