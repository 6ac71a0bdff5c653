package embed

import (
	"fmt"

	"github.com/minilm-coreml/minilm/go/quantize"
)

// CallOption adjusts one Embed, Encode or Stream call, on top of the Embedder's defaults
// (the options given to New). Later options win.
type CallOption func(*callConfig)

// callConfig is the resolved configuration of one call.
type callConfig struct {
	normalize bool
	batchSize int
	maxSeq    int
	progress  func(done, total int)
	precision quantize.Precision
	ranges    *quantize.Ranges
	window    int // texts Stream reads ahead and plans together
}

// Normalize sets whether embeddings are scaled to unit length (default true, as
// sentence-transformers' normalize_embeddings=True, which this model's pipeline applies).
// With false the mean-pooled vector is returned as it is.
func Normalize(on bool) CallOption { return func(c *callConfig) { c.normalize = on } }

// BatchSize sets the most texts one backend call holds for this call (default: WithBatchSize,
// 32). The backend's shapes may cap it further.
func BatchSize(n int) CallOption { return func(c *callConfig) { c.batchSize = n } }

// MaxSeqLength sets the token limit for this call (default: WithMaxSeqLength, 256), at most the
// Embedder's own limit's ceiling: the backend's longest shape and 512.
func MaxSeqLength(n int) CallOption { return func(c *callConfig) { c.maxSeq = n } }

// Progress makes the call report its progress: f(done, total) after each batch, with the
// number of texts finished so far and the number in the call (total is -1 in Stream, which
// cannot know it). Calls to f are serialized and done never decreases; f must be quick.
func Progress(f func(done, total int)) CallOption { return func(c *callConfig) { c.progress = f } }

// OutputPrecision selects the numeric form of the results, as sentence-transformers'
// encode(precision=...): quantize.Float32 (the default), Int8, Uint8, Binary or UBinary.
// Quantization applies after normalization. Int8 and Uint8 need calibration ranges: give
// them with CalibrationRanges (computed once with quantize.Calibrate on a sample of your
// corpus); without them Encode calibrates on the call's own embeddings, as
// sentence-transformers does (not recommended: codes then differ between calls), and Stream
// fails. Embed returns float32 vectors only: use Encode or Stream for the other precisions.
func OutputPrecision(p quantize.Precision) CallOption {
	return func(c *callConfig) { c.precision = p }
}

// CalibrationRanges sets the per-dimension ranges Int8 and Uint8 quantization scale to.
func CalibrationRanges(r quantize.Ranges) CallOption {
	return func(c *callConfig) { c.ranges = &r }
}

// Embedding is one text's result from Encode or Stream. Exactly one of Float32, Int8 and
// Uint8 is set, by the call's OutputPrecision: Float32 for quantize.Float32, Int8 for
// quantize.Int8 and quantize.Binary, Uint8 for quantize.Uint8 and quantize.UBinary (binary
// forms pack 8 dimensions per byte: 48 bytes for 384 dimensions).
type Embedding struct {
	Float32 []float32
	Int8    []int8
	Uint8   []uint8
	// Tokens is the number of tokens the model read, [CLS] and [SEP] included.
	Tokens int
	// Truncated tells that the text had more tokens than MaxSeqLength and its end was not
	// read.
	Truncated bool
}

func (e *Embedder) callConfig(opts []CallOption) (callConfig, error) {
	c := callConfig{normalize: true, batchSize: e.batchSize, maxSeq: e.maxSeq}
	for _, o := range opts {
		o(&c)
	}
	if c.batchSize < 1 {
		return c, fmt.Errorf("embed: BatchSize(%d): need at least 1", c.batchSize)
	}
	if limit := e.seqCeiling(); c.maxSeq < 2 || c.maxSeq > limit {
		return c, fmt.Errorf("embed: MaxSeqLength(%d): must be 2..%d (room for [CLS] and [SEP]; the %s backend's limit)", c.maxSeq, limit, e.be.Name())
	}
	switch c.precision {
	case quantize.Float32, quantize.Int8, quantize.Uint8, quantize.Binary, quantize.UBinary:
	default:
		return c, fmt.Errorf("embed: OutputPrecision(%v): unknown precision", c.precision)
	}
	if c.ranges != nil {
		if c.ranges.Dim() != Dim || len(c.ranges.Max) != Dim {
			return c, fmt.Errorf("embed: CalibrationRanges cover %d/%d dimensions, want %d", len(c.ranges.Min), len(c.ranges.Max), Dim)
		}
	}
	if c.window == 0 {
		c.window = 16 * c.batchSize
		if c.window < 256 {
			c.window = 256
		}
	}
	return c, nil
}

// seqCeiling is the longest token limit a call may ask for.
func (e *Embedder) seqCeiling() int {
	limit := MaxSeqLengthLimit
	if m := e.be.Shapes().MaxSeq(); m < limit {
		limit = m
	}
	return limit
}

// quantizer turns float32 vectors into the call's output precision.
type quantizer struct {
	p      quantize.Precision
	ranges quantize.Ranges
}

// newQuantizer prepares c's precision; sample calibrates Int8/Uint8 when c has no ranges
// (nil sample: ranges are required).
func newQuantizer(c *callConfig, sample [][]float32) (*quantizer, error) {
	q := &quantizer{p: c.precision}
	if !c.precision.Scalar() {
		return q, nil
	}
	if c.ranges != nil {
		q.ranges = *c.ranges
		return q, nil
	}
	if sample == nil {
		return nil, fmt.Errorf("embed: OutputPrecision(%v) in a stream needs CalibrationRanges", c.precision)
	}
	r, err := quantize.Calibrate(sample)
	if err != nil {
		return nil, fmt.Errorf("embed: calibrating %v ranges: %w", c.precision, err)
	}
	q.ranges = r
	return q, nil
}

// apply fills out's vector fields from v.
func (q *quantizer) apply(out *Embedding, v []float32) error {
	switch q.p {
	case quantize.Float32:
		out.Float32 = v
	case quantize.Int8:
		out.Int8 = make([]int8, len(v))
		return q.ranges.Int8(out.Int8, v)
	case quantize.Uint8:
		out.Uint8 = make([]uint8, len(v))
		return q.ranges.Uint8(out.Uint8, v)
	case quantize.Binary:
		out.Int8 = make([]int8, q.p.Len(len(v)))
		quantize.PackBitsInt8(out.Int8, v)
	case quantize.UBinary:
		out.Uint8 = make([]uint8, q.p.Len(len(v)))
		quantize.PackBits(out.Uint8, v)
	}
	return nil
}
