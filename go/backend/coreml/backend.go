package coreml

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/plan"
)

// Backend runs the encoder with Core ML. It implements backend.Backend.
//
// Each loaded model instance runs one prediction at a time; Forward waits for a free
// instance. Every Forward call makes exactly one Core ML prediction, at the smallest allowed
// shape that holds the batch.
type Backend struct {
	name   string
	shapes plan.ShapeSet
	hidden int
	iface  Interface

	mu     sync.RWMutex // Forward and Prewarm hold it shared, Close exclusively
	closed bool

	idle      chan *instance
	instances []*instance

	warmMu sync.Mutex // guards instance.warm
}

var _ backend.Backend = (*Backend)(nil)

// instance is one loaded model plus its input scratch buffers. Whoever took it from
// Backend.idle owns it exclusively until it is put back.
type instance struct {
	index     int
	p         predictor
	ids, mask []int32
	warm      map[plan.Shape]bool // shapes this instance has run (guarded by Backend.warmMu)
}

func newBackend(name string, shapes plan.ShapeSet, hidden int, iface Interface, preds []predictor) (*Backend, error) {
	if len(preds) == 0 {
		return nil, fmt.Errorf("coreml: no model instances")
	}
	if shapes == nil || shapes.MaxBatch() < 1 || shapes.MaxSeq() < 1 {
		return nil, fmt.Errorf("coreml: model allows no input shape")
	}
	if iface != IDsAndMask && iface != IDsOnly {
		return nil, fmt.Errorf("coreml: invalid model %v", iface)
	}
	b := &Backend{name: name, shapes: shapes, hidden: hidden, iface: iface, idle: make(chan *instance, len(preds))}
	for i, p := range preds {
		inst := &instance{index: i, p: p, warm: map[plan.Shape]bool{}}
		b.instances = append(b.instances, inst)
		b.idle <- inst
	}
	return b, nil
}

// Name implements backend.Backend, e.g. "coreml(cpuAndNeuralEngine)".
func (b *Backend) Name() string { return b.name }

// Shapes implements backend.Backend: the shapes the model description allows.
func (b *Backend) Shapes() plan.ShapeSet { return b.shapes }

// HiddenSize implements backend.Backend.
func (b *Backend) HiddenSize() int { return b.hidden }

// Interface is the model's input interface: IDsAndMask or IDsOnly.
func (b *Backend) Interface() Interface { return b.iface }

// Instances is the number of loaded model copies.
func (b *Backend) Instances() int { return len(b.instances) }

// acquire takes an idle instance, waiting until one is free or ctx is done.
func (b *Backend) acquire(ctx context.Context) (*instance, error) {
	select {
	case inst := <-b.idle:
		return inst, nil
	default:
	}
	select {
	case inst := <-b.idle:
		return inst, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *Backend) release(inst *instance) { b.idle <- inst }

// Forward implements backend.Backend.
//
// in.Shape need not be an allowed shape: Forward runs the smallest allowed shape with at
// least in.Rows rows and in.Shape.Seq tokens, padding with extra columns (id 0, mask 0) and
// extra rows. Padding rows hold the tokenization of the empty text, [CLS] [SEP] with mask
// 1 1 0…: a row whose mask is all zero leaves softmax nothing to attend to, which under
// float16 (a -inf additive mask) gives NaN. Padding rows are discarded, but a well-formed
// row keeps every value the model computes finite, so any NaN that remains is a real error.
//
// Cancelling ctx stops Forward while it waits for a model instance. A Core ML prediction
// cannot be interrupted; once started, it completes and its result is returned.
func (b *Backend) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	if err := b.checkInput(in, out); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("coreml: forward %d×%d: %w", in.Rows, in.Shape.Seq, err)
	}
	target, ok := b.shapes.Fit(in.Rows, in.Shape.Seq)
	if !ok {
		return fmt.Errorf("coreml: no allowed shape holds %d rows of %d tokens (model allows %v; max batch %d, max seq %d)",
			in.Rows, in.Shape.Seq, b.shapes, b.shapes.MaxBatch(), b.shapes.MaxSeq())
	}

	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	inst, err := b.acquire(ctx)
	if err != nil {
		return fmt.Errorf("coreml: forward %d×%d: waiting for a model instance: %w", in.Rows, in.Shape.Seq, err)
	}
	defer b.release(inst)

	ids, mask := inst.buffers(target.Tokens())
	packInput(in, target, ids, mask)
	ids, mask = b.modelInputs(ids, mask)
	err = inst.p.Predict(target, ids, mask, func(o Output) error {
		return decodeOutput(o, target, b.hidden, in.Rows, in.Shape.Seq, out)
	})
	b.markWarm(inst, target)
	if err != nil {
		return fmt.Errorf("coreml: predicting %d rows of %d tokens at shape %d×%d (instance %d): %w",
			in.Rows, in.Shape.Seq, target.Batch, target.Seq, inst.index, err)
	}
	return nil
}

func (b *Backend) checkInput(in *backend.Input, out []float32) error {
	if in == nil {
		return fmt.Errorf("coreml: nil input")
	}
	s := in.Shape
	if s.Batch < 1 || s.Seq < 1 || in.Rows < 1 || in.Rows > s.Batch {
		return fmt.Errorf("coreml: invalid input: %d rows in shape %d×%d", in.Rows, s.Batch, s.Seq)
	}
	if len(in.IDs) != s.Tokens() || len(in.Mask) != s.Tokens() {
		return fmt.Errorf("coreml: invalid input: %d ids and %d mask values for shape %d×%d", len(in.IDs), len(in.Mask), s.Batch, s.Seq)
	}
	for i, t := range in.TypeIDs {
		if t != 0 && i < in.Rows*s.Seq {
			return fmt.Errorf("coreml: token type id %d at row %d, token %d: the Core ML model has no token_type_ids input (single-segment only)", t, i/s.Seq, i%s.Seq)
		}
	}
	for r := 0; r < in.Rows; r++ {
		empty := true
		for _, m := range in.Mask[r*s.Seq : (r+1)*s.Seq] {
			if m != 0 {
				empty = false
				break
			}
		}
		if empty {
			return fmt.Errorf("coreml: row %d has an all-zero attention mask (every text has at least [CLS] [SEP])", r)
		}
	}
	if want := in.Rows * s.Seq * b.hidden; len(out) != want {
		return fmt.Errorf("coreml: output buffer holds %d values, want %d (%d rows × %d tokens × %d)", len(out), want, in.Rows, s.Seq, b.hidden)
	}
	return nil
}

func (inst *instance) buffers(n int) (ids, mask []int32) {
	if cap(inst.ids) < n {
		inst.ids = make([]int32, n)
		inst.mask = make([]int32, n)
	}
	return inst.ids[:n], inst.mask[:n]
}

// packInput copies in's first in.Rows rows into the target shape's buffers and fills the rest
// with padding: columns beyond in.Shape.Seq get id 0 / mask 0, and rows beyond in.Rows get
// the empty text (see Forward).
func packInput(in *backend.Input, target plan.Shape, ids, mask []int32) {
	L, src := target.Seq, in.Shape.Seq
	for r := 0; r < target.Batch; r++ {
		di, dm := ids[r*L:(r+1)*L], mask[r*L:(r+1)*L]
		if r < in.Rows {
			copy(di, in.IDs[r*src:(r+1)*src])
			copy(dm, in.Mask[r*src:(r+1)*src])
			for t := src; t < L; t++ {
				di[t], dm[t] = 0, 0
			}
			continue
		}
		fillEmptyRow(di, dm)
	}
}

// modelInputs turns a padded (ids, mask) batch into what the model takes: unchanged for
// IDsAndMask; for IDsOnly the ids encoded in place with SingleInputIDs (padding PadID, a
// literal [PAD] LiteralPadID) and no mask.
func (b *Backend) modelInputs(ids, mask []int32) ([]int32, []int32) {
	if b.iface == IDsOnly {
		SingleInputIDs(ids, ids, mask)
		return ids, nil
	}
	return ids, mask
}

// fillEmptyRow writes the tokenization of the empty text: [CLS] [SEP], then padding.
func fillEmptyRow(ids, mask []int32) {
	for t := range ids {
		ids[t], mask[t] = 0, 0
	}
	ids[0], mask[0] = clsTokenID, 1
	if len(ids) > 1 {
		ids[1], mask[1] = sepTokenID, 1
	}
}

func (b *Backend) markWarm(inst *instance, s plan.Shape) {
	b.warmMu.Lock()
	inst.warm[s] = true
	b.warmMu.Unlock()
}

// Close implements backend.Backend. It waits for running predictions, then releases every
// model instance. Later calls return nil.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var msgs []string
	for _, inst := range b.instances {
		if err := inst.p.Close(); err != nil {
			msgs = append(msgs, fmt.Sprintf("instance %d: %v", inst.index, err))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("coreml: close: %s", strings.Join(msgs, "; "))
	}
	return nil
}
