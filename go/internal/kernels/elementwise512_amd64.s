//go:build !purego

#include "textflag.h"

// AVX-512 forms of expSumBody, maxBody and geluBody (elementwise_amd64.s): the same
// operations on 16 lanes, so each lane computes exactly what the AVX2 and Go kernels compute
// (only the order of the final sum differs). On CPUs with full-width 512-bit units (AMD
// Zen 5, Intel server cores) they take about half the time of the 8-lane loops; softmax's
// exp is a third of attention's time at 256 tokens. expSumBody512 and geluBody512 take any
// length: the last partial vector is loaded and stored under a mask.

DATA z512<>+0(SB)/4, $0xc2aeac4f // EXPLO = -87.33654
DATA z512<>+4(SB)/4, $0x3fb8aa3b // LOG2E = 1.4426950408889634
DATA z512<>+8(SB)/4, $0x3f318000 // LN2HI = 0.693359375
DATA z512<>+12(SB)/4, $0x395e8083 // LN2LO = 0.00021219444
DATA z512<>+16(SB)/4, $0x39506967 // P0 = 0.000198756915
DATA z512<>+20(SB)/4, $0x3ab743ce // P1 = 0.0013981999507
DATA z512<>+24(SB)/4, $0x3c088908 // P2 = 0.0083334519073
DATA z512<>+28(SB)/4, $0x3d2aa9c1 // P3 = 0.041665795894
DATA z512<>+32(SB)/4, $0x3e2aaaaa // P4 = 0.16666665459
DATA z512<>+36(SB)/4, $0x3f000000 // P5 = 0.50000001201
DATA z512<>+40(SB)/4, $0x3f800000 // ONE = 1.0
DATA z512<>+44(SB)/4, $0x3f3504f3 // RSQRT2 = 0.7071067811865476
DATA z512<>+48(SB)/4, $0x3f000000 // HALF = 0.5
DATA z512<>+52(SB)/4, $0xaf95df0b // A13 = -2.72614225801306e-10
DATA z512<>+56(SB)/4, $0x32edffee // A11 = 2.77068142495902e-08
DATA z512<>+60(SB)/4, $0xb60cff51 // A9 = -2.10102402082508e-06
DATA z512<>+64(SB)/4, $0xb86ec2d2 // A7 = -5.69250639462346e-05
DATA z512<>+68(SB)/4, $0xba40ac63 // A5 = -0.000734990630326855
DATA z512<>+72(SB)/4, $0xbb41a1f6 // A3 = -0.00295459980854025
DATA z512<>+76(SB)/4, $0xbc83dbd4 // A1 = -0.0160960333262415
DATA z512<>+80(SB)/4, $0xb77460cd // B8 = -1.45660718464996e-05
DATA z512<>+84(SB)/4, $0xb95fbd29 // B6 = -0.000213374055278905
DATA z512<>+88(SB)/4, $0xbadc924e // B4 = -0.00168282697438203
DATA z512<>+92(SB)/4, $0xbbf19bf8 // B2 = -0.00737332916720468
DATA z512<>+96(SB)/4, $0xbc69b6a7 // B0 = -0.0142647390514189
DATA z512<>+100(SB)/4, $0x40800000 // FOUR = 4.0
DATA z512<>+104(SB)/4, $0xc0800000 // MFOUR = -4.0
GLOBL z512<>(SB), RODATA|NOPTR, $108

// EXP16 replaces Z0 with exp(Z0 - Z14), lane by lane, as expSumBody does; it uses Z1-Z3.
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
	VBROADCASTSS z512<>+0(SB), Z16
	VBROADCASTSS z512<>+4(SB), Z4
	VBROADCASTSS z512<>+8(SB), Z5
	VBROADCASTSS z512<>+12(SB), Z6
	VBROADCASTSS z512<>+16(SB), Z7
	VBROADCASTSS z512<>+20(SB), Z8
	VBROADCASTSS z512<>+24(SB), Z9
	VBROADCASTSS z512<>+28(SB), Z10
	VBROADCASTSS z512<>+32(SB), Z11
	VBROADCASTSS z512<>+36(SB), Z12
	VBROADCASTSS z512<>+40(SB), Z13
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
	VADDPS        Z17, Z15, Z15
	VEXTRACTF32X8 $1, Z15, Y0
	VADDPS        Y15, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	MOVSS         X0, sum+24(FP)
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
	VBROADCASTSS z512<>+44(SB), Z5
	VBROADCASTSS z512<>+48(SB), Z6
	VBROADCASTSS z512<>+52(SB), Z7
	VBROADCASTSS z512<>+56(SB), Z8
	VBROADCASTSS z512<>+60(SB), Z9
	VBROADCASTSS z512<>+64(SB), Z10
	VBROADCASTSS z512<>+68(SB), Z11
	VBROADCASTSS z512<>+72(SB), Z12
	VBROADCASTSS z512<>+76(SB), Z13
	VBROADCASTSS z512<>+80(SB), Z18
	VBROADCASTSS z512<>+84(SB), Z14
	VBROADCASTSS z512<>+88(SB), Z15
	VBROADCASTSS z512<>+92(SB), Z19
	VBROADCASTSS z512<>+96(SB), Z20
	VBROADCASTSS z512<>+100(SB), Z16
	VBROADCASTSS z512<>+104(SB), Z17
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
	VEXTRACTF32X8 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
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
	VEXTRACTF32X8 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VDIVSS        X2, X0, X0       // var
	VADDSS        eps+32(FP), X0, X0
	VSQRTSS       X0, X0, X0
	VMOVSS        z512<>+40(SB), X1
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
