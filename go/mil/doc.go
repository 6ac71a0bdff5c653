// Package mil runs the main function of a Core ML ML Program (read by go/mlpackage) on the
// CPU in float32, with the CPU backend's GEMM, softmax, GELU and LayerNorm kernels.
//
// It implements exactly the operations the converted all-MiniLM-L6-v2 packages contain
// (see SupportedOps), including the weight decompression ops of the compressed variants
// (constexpr_blockwise_shift_scale, constexpr_lut_to_dense, constexpr_affine_dequantize),
// which run once at load, and the activation quantize/dequantize pairs of W8A8 programs.
// Any other operation makes Load fail with an error naming the op, its name and its index.
//
// Values of every type are held as float32 (integer tensors are shapes and token ids,
// exact below 2^24). Float16 tensors are float32 by default; WithFP16 rounds every
// floating-point constant and op result to float16 (round to nearest even, overflow to ±Inf)
// the way a float16 engine such as the Neural Engine would, so a program that overflows
// float16 — the finfo(float32).min attention mask is the classic case — produces Inf/NaN
// here too.
//
// NewBackend wraps a program as a backend.Backend, so go/embed's pipeline (tokenizer →
// plan → Forward → pooling) runs the shipped artifact.
package mil
