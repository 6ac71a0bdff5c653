package coreml

import (
	"context"
	"fmt"
	"time"

	"github.com/minilm-coreml/minilm/go/plan"
)

// WarmResult reports one prewarm prediction.
type WarmResult struct {
	Shape    plan.Shape
	Instance int
	// Duration is the wall time of the first prediction at Shape on Instance: Core ML
	// prepares an execution plan per shape on first use, which can take seconds.
	Duration time.Duration
	Err      error
}

// String implements fmt.Stringer.
func (r WarmResult) String() string {
	if r.Err != nil {
		return fmt.Sprintf("%d×%d (instance %d): %v", r.Shape.Batch, r.Shape.Seq, r.Instance, r.Err)
	}
	return fmt.Sprintf("%d×%d (instance %d): %v", r.Shape.Batch, r.Shape.Seq, r.Instance, r.Duration)
}

// Prewarm runs one prediction per shape on every instance in the background, so that the
// cold cost of each shape is paid before real traffic arrives, and checks that every output
// value is finite. It returns at once; results arrive on the channel, which is closed when
// prewarming is done (or ctx is cancelled, or the backend is closed). The channel is
// buffered for every result, so a caller may ignore it.
//
// With no shapes given it runs every enumerated shape, or for range models the smallest and
// largest batch at each power-of-two sequence length. Shapes a Forward call already ran on
// an instance are skipped there. Forward calls interleave with prewarming: prewarm holds an
// instance for one prediction at a time.
func (b *Backend) Prewarm(ctx context.Context, shapes ...plan.Shape) <-chan WarmResult {
	if len(shapes) == 0 {
		shapes = warmShapes(b.shapes)
	}
	results := make(chan WarmResult, len(shapes)*len(b.instances)+1)
	go func() {
		defer close(results)
		var valid []plan.Shape
		for _, s := range shapes {
			fit, ok := b.shapes.Fit(s.Batch, s.Seq)
			if !ok || fit != s {
				results <- WarmResult{Shape: s, Instance: -1, Err: fmt.Errorf("coreml: prewarm: shape %d×%d is not allowed by the model (%v)", s.Batch, s.Seq, b.shapes)}
				continue
			}
			valid = append(valid, s)
		}
		for {
			r, more := b.warmOne(ctx, valid)
			if !more {
				if r.Err != nil {
					results <- r
				}
				return
			}
			if r.Instance >= 0 {
				results <- r
			}
		}
	}()
	return results
}

// warmOne runs one cold (instance, shape) pair on whichever instance is free. more is false
// when nothing is left or prewarming must stop (r.Err then says why, if not simply done).
func (b *Backend) warmOne(ctx context.Context, shapes []plan.Shape) (r WarmResult, more bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return WarmResult{Instance: -1, Err: ErrClosed}, false
	}
	if !b.anyCold(shapes) {
		return WarmResult{Instance: -1}, false
	}
	if err := ctx.Err(); err != nil {
		return WarmResult{Instance: -1, Err: fmt.Errorf("coreml: prewarm: %w", err)}, false
	}
	inst, err := b.acquire(ctx)
	if err != nil {
		return WarmResult{Instance: -1, Err: fmt.Errorf("coreml: prewarm: waiting for a model instance: %w", err)}, false
	}
	defer b.release(inst)
	s, ok := b.nextCold(inst, shapes)
	if !ok {
		// This instance is warm; others are busy with Forward. Back off briefly.
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
		}
		return WarmResult{Instance: -1}, true
	}
	ids, mask := inst.buffers(s.Tokens())
	for row := 0; row < s.Batch; row++ {
		fillEmptyRow(ids[row*s.Seq:(row+1)*s.Seq], mask[row*s.Seq:(row+1)*s.Seq])
	}
	ids, mask = b.modelInputs(ids, mask)
	start := time.Now()
	err = inst.p.Predict(s, ids, mask, func(o Output) error {
		return decodeOutput(o, s, b.hidden, s.Batch, s.Seq, nil)
	})
	r = WarmResult{Shape: s, Instance: inst.index, Duration: time.Since(start)}
	b.markWarm(inst, s)
	if err != nil {
		r.Err = fmt.Errorf("coreml: prewarm %d×%d (instance %d): %w", s.Batch, s.Seq, inst.index, err)
	}
	return r, true
}

func (b *Backend) anyCold(shapes []plan.Shape) bool {
	b.warmMu.Lock()
	defer b.warmMu.Unlock()
	for _, inst := range b.instances {
		for _, s := range shapes {
			if !inst.warm[s] {
				return true
			}
		}
	}
	return false
}

func (b *Backend) nextCold(inst *instance, shapes []plan.Shape) (plan.Shape, bool) {
	b.warmMu.Lock()
	defer b.warmMu.Unlock()
	for _, s := range shapes {
		if !inst.warm[s] {
			return s, true
		}
	}
	return plan.Shape{}, false
}
