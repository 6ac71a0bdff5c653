// Package coreml runs the all-MiniLM-L6-v2 encoder with Apple Core ML.
//
// The package is split so that everything except the Objective-C calls builds and is tested
// on any OS:
//
//   - backend.go, shapes.go, output.go, prewarm.go, cache.go, minos.go, interface.go and
//     computeplan.go hold the batching, shape decoding, padding, strided/float16 output
//     decoding, instance pooling, prewarming, compile cache, minimum-OS check, model
//     interface detection and compute-plan report. They talk to Core ML only through the
//     small predictor interface, which the tests implement with a fake.
//   - coreml_darwin.go, computeplan_darwin.go and nsarray_darwin.go (darwin && cgo) implement
//     predictor, New and ComputePlan with github.com/progrium/darwinkit. They cannot be
//     built on Linux; go/internal/darwincheck type-checks them against darwinkit's real API
//     instead, and rejects any NSArray read that bypasses nsArray.
//   - coreml_other.go and computeplan_other.go (every other platform) provide New, Available
//     and ComputePlan that report an *UnavailableError, so callers can fall back to another
//     backend.
//
// The model takes int32 (N, L) inputs, either input_ids and attention_mask (the conversion
// guide's interface) or input_ids alone (the default package, whose program derives the mask;
// see inputs.go), and has one output last_hidden_state of shape (N, L, 384), Float32 or
// Float16. New tells the two apart from the model description. The allowed (N, L) shapes
// come from the model description too: an enumerated list or a range per dimension.
package coreml
