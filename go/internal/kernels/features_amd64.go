//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// The CPU features the amd64 kernels need, all from golang.org/x/sys/cpu, which also checks
// that the OS saves the register state each one needs (YMM; opmask and ZMM for AVX-512,
// including macOS's lazily enabled AVX-512 state).
var (
	// hasAVX2FMA: the 256-bit kernels (float32 tiles, elementwise, the int8 AVX2 fallback).
	hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	// hasAVX512: the wide float32 and bf16-weight tiles (F for zmm, BW and VL for the masks
	// and the 256-bit forms of AVX-512 instructions they use).
	hasAVX512 = hasAVX2FMA && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
	// hasAVX512BF16: VDPBF16PS and VCVTNE2PS2BF16.
	hasAVX512BF16 = hasAVX512 && cpu.X86.HasAVX512BF16
	// hasVNNI512: the EVEX VPDPBUSD int8 tiles.
	hasVNNI512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI
	// hasAVXVNNI: the VEX-encoded VPDPBUSD (AVX-VNNI) int8 tiles.
	hasAVXVNNI = hasAVX2FMA && cpu.X86.HasAVXVNNI
)
