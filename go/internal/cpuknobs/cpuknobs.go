// Package cpuknobs gives the benchmarks (go/bench) options of the CPU backend
// (go/backend/cpu) that exist only to measure it and are not part of its public API.
//
// Package cpu fills the variables below at init, so they are set in any program that
// imports it, which a caller of its options does.
package cpuknobs

// FixedShapes returns a cpu.Option (as an interface{}, to avoid an import cycle: assert it
// with .(cpu.Option)) that makes Forward compute every position of the padded input,
// padding included, as an engine with a fixed input shape does (for example a Core ML model
// exported at (1, 512)). Padded keys stay masked, so the vectors do not change, only the
// cost; it needs right-padded rows. Benchmarks use it to measure the fixed-shape serial
// baseline faithfully on the same kernels.
var FixedShapes func() interface{}
