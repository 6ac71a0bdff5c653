package serve

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/minilm-coreml/minilm/go/embed"
)

// job is one request's texts waiting for, or in, a batch.
type job struct {
	ctx       context.Context
	texts     []string
	tokens    int  // sum of the texts' token counts
	normalize bool // requests batch together only with requests of the same options
	enqueued  time.Time
	done      chan jobResult // buffered: the batcher never blocks on it
}

type jobResult struct {
	embs       []embed.Embedding
	batchTexts int // texts in the batch this job ran in
	err        error
}

// batcher forms batches across requests: it takes the first waiting job, then keeps adding
// jobs with the same options until the batch holds maxTokens tokens or maxRequests jobs, or
// maxWait has passed since it started the batch (no wait at all when the last batch held one
// request: under no load, waiting only adds latency), and runs the batch as one Encode call, whose
// planner cuts it into the backend's shapes. One batch runs at a time; requests that arrive
// meanwhile wait in the queue and form the next batch, so batches grow with the load.
type batcher struct {
	emb         *embed.Embedder
	queue       chan *job
	maxTokens   int
	maxRequests int
	maxWait     time.Duration
	metrics     *metrics
	log         *slog.Logger
	carry       []*job // taken from the queue but not fitting the batch being formed
	waiting     int64  // jobs enqueued and not yet in a batch (queue depth)
	// lastRequests is the size of the last batch formed: the load signal that decides
	// whether the next batch waits up to maxWait to fill.
	lastRequests int
}

// submit enqueues j. The queue holds every admitted request, so it never blocks.
func (b *batcher) submit(j *job) {
	atomic.AddInt64(&b.waiting, 1)
	b.metrics.queueDepth.Set(float64(atomic.LoadInt64(&b.waiting)))
	b.queue <- j
}

// run forms and runs batches until ctx is done; jobs still queued then get ctx's error.
func (b *batcher) run(ctx context.Context) {
	for {
		batch := b.form(ctx)
		if batch == nil {
			b.failQueued(ctx.Err())
			return
		}
		b.execute(ctx, batch)
	}
}

// next returns a carried-over job, or the next from the queue (blocking until one comes,
// until timeout, or ctx is done).
func (b *batcher) next(ctx context.Context, timeout <-chan time.Time) *job {
	if len(b.carry) > 0 {
		j := b.carry[0]
		b.carry = b.carry[1:]
		return j
	}
	select { // a queued job first, even when the timeout has passed
	case j := <-b.queue:
		return j
	default:
	}
	select {
	case j := <-b.queue:
		return j
	case <-timeout:
		return nil
	case <-ctx.Done():
		return nil
	}
}

func (b *batcher) dequeued(j *job) {
	atomic.AddInt64(&b.waiting, -1)
	b.metrics.queueDepth.Set(float64(atomic.LoadInt64(&b.waiting)))
	b.metrics.queueSeconds.Observe(time.Since(j.enqueued).Seconds())
}

// form collects the next batch; nil when ctx is done.
func (b *batcher) form(ctx context.Context) []*job {
	var first *job
	for first == nil {
		first = b.next(ctx, nil)
		if first == nil {
			return nil
		}
		if first.ctx.Err() != nil { // the client left while waiting: drop its work
			b.dequeued(first)
			first.done <- jobResult{err: first.ctx.Err()}
			first = nil
		}
	}
	b.dequeued(first)
	batch, tokens := []*job{first}, first.tokens
	// Waiting for a batch to fill pays only under load: when the last batch held a single
	// request, take what is queued now and go, so a lone client never waits for company.
	wait := b.maxWait
	if b.lastRequests <= 1 {
		wait = 0
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var skipped []*job
	for len(batch) < b.maxRequests && tokens < b.maxTokens {
		j := b.next(ctx, timer.C)
		if j == nil {
			break
		}
		if j.ctx.Err() != nil {
			b.dequeued(j)
			j.done <- jobResult{err: j.ctx.Err()}
			continue
		}
		if j.normalize != first.normalize || tokens+j.tokens > b.maxTokens {
			skipped = append(skipped, j) // next batch
			if j.normalize == first.normalize {
				break // the budget is full
			}
			continue
		}
		b.dequeued(j)
		batch = append(batch, j)
		tokens += j.tokens
	}
	b.carry = append(skipped, b.carry...)
	b.lastRequests = len(batch)
	return batch
}

// execute runs one batch and hands each job its share. The batch's work is cancelled when
// every one of its clients has gone.
func (b *batcher) execute(ctx context.Context, batch []*job) {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	remaining := int32(len(batch))
	for _, j := range batch {
		go func(j *job) {
			select {
			case <-j.ctx.Done():
				if atomic.AddInt32(&remaining, -1) == 0 {
					cancel()
				}
			case <-bctx.Done():
			}
		}(j)
	}
	var texts []string
	tokens := 0
	for _, j := range batch {
		texts = append(texts, j.texts...)
		tokens += j.tokens
	}
	start := time.Now()
	embs, err := b.emb.Encode(bctx, texts, embed.Normalize(batch[0].normalize))
	b.metrics.inferSeconds.Observe(time.Since(start).Seconds())
	b.metrics.batchTexts.Observe(float64(len(texts)))
	b.metrics.batchTokens.Observe(float64(tokens))
	b.metrics.batchRequests.Observe(float64(len(batch)))
	b.log.Debug("batch", "requests", len(batch), "texts", len(texts), "tokens", tokens,
		"queue_wait_ms", float64(start.Sub(batch[0].enqueued).Microseconds())/1000,
		"infer_ms", float64(time.Since(start).Microseconds())/1000, "ok", err == nil)
	off := 0
	for _, j := range batch {
		r := jobResult{batchTexts: len(texts), err: err}
		if err == nil {
			r.embs = embs[off : off+len(j.texts)]
		}
		off += len(j.texts)
		j.done <- r
	}
}

// failQueued answers every job still waiting.
func (b *batcher) failQueued(err error) {
	for _, j := range b.carry {
		j.done <- jobResult{err: err}
	}
	b.carry = nil
	for {
		select {
		case j := <-b.queue:
			j.done <- jobResult{err: err}
		default:
			return
		}
	}
}
