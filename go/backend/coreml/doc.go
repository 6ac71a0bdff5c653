// Package coreml runs the all-MiniLM-L6-v2 encoder with Apple Core ML.
//
// The package is split so that everything except the Objective-C calls builds and is tested
// on any OS:
//
//   - backend.go, shapes.go, output.go, float16.go, prewarm.go and cache.go hold the batching,
//     shape selection, padding, strided/float16 output decoding, instance pooling, prewarming
//     and compile cache logic. They talk to Core ML only through the small predictor
//     interface, which the tests implement with a fake.
//   - coreml_darwin.go (darwin && cgo) implements predictor with github.com/progrium/darwinkit
//     and provides New. It cannot be built on Linux; go/internal/darwincheck type-checks it
//     against darwinkit's real API instead.
//   - coreml_other.go (every other platform) provides New and Available that report
//     ErrUnavailable, so callers can fall back to another backend.
//
// The model must have two int32 (N, L) inputs, input_ids and attention_mask, and one output
// last_hidden_state of shape (N, L, 384), Float32 or Float16. The allowed (N, L) shapes come
// from the model description: an enumerated list or a range per dimension.
package coreml
