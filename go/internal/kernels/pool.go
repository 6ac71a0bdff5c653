package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs parallel loops on a fixed set of threads-1 worker goroutines shared by every
// Forward call of a backend, so concurrent calls never run more than that many helpers in
// total. A loop posts itself to a queue that idle workers take from, runs tasks on the
// calling goroutine too, and returns once its tasks are done: it never waits for a worker
// busy elsewhere to pick it up.
//
// Hand-offs spin briefly instead of parking at once: a worker that finishes a loop polls the
// queue for up to spinWait before it blocks, and a caller whose own tasks are done polls for
// its helpers' tasks for up to spinWait before it blocks. A forward pass is dozens of loops
// of 0.05–2 ms each; waking a parked goroutine for each took 100 µs or more here
// (BenchmarkPoolHandOff), which left one core idle for a sixth of a single long text's
// encoding. ONNX Runtime's thread pool spins between operators for the same reason. The
// cost is at most spinWait of one core's time after the last loop of a call; the spinning
// yields (runtime.Gosched) so other goroutines still run.
type Pool struct {
	threads int
	queue   chan *job
	quit    chan struct{}
	wg      sync.WaitGroup
	scratch sync.Pool // *Scratch for calling goroutines
}

// spinWait bounds how long a worker polls for the next loop, and a caller for its helpers,
// before blocking.
const spinWait = 200 * time.Microsecond

// job is one parallel loop: tasks [0, n) claimed with an atomic counter.
type job struct {
	next int64
	n    int64
	fn   func(task int, s *Scratch)

	mu      sync.Mutex
	closed  bool  // all tasks claimed and the caller is waiting: no new helpers
	running int32 // helpers inside drain (atomic)
	helpers sync.WaitGroup
}

// NewPool starts threads-1 worker goroutines (threads < 1 counts as 1); the
// goroutine calling Run is the last thread. Close stops them.
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = 1
	}
	p := &Pool{threads: threads, queue: make(chan *job, 4*threads), quit: make(chan struct{})}
	p.scratch.New = func() interface{} { return new(Scratch) }
	for i := 1; i < threads; i++ {
		p.wg.Add(1)
		go p.worker()
	}
	return p
}

// Size is the number of threads, the caller of Run included.
func (p *Pool) Size() int { return p.threads }

func (p *Pool) worker() {
	defer p.wg.Done()
	s := new(Scratch)
	for {
		// Poll for the next loop for a while (see Pool), then block.
		var j *job
		for deadline, i := time.Now().Add(spinWait), 0; j == nil; i++ {
			select {
			case j = <-p.queue:
				continue
			default:
			}
			if i%16 == 15 && time.Now().After(deadline) {
				break
			}
			if i%64 == 63 {
				runtime.Gosched()
			}
		}
		if j == nil {
			select {
			case j = <-p.queue:
			case <-p.quit:
				return
			}
		}
		j.help(s)
	}
}

// help runs tasks of j unless the caller has already finished them.
func (j *job) help(s *Scratch) {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.helpers.Add(1)
	atomic.AddInt32(&j.running, 1)
	j.mu.Unlock()
	j.drain(s)
	atomic.AddInt32(&j.running, -1)
	j.helpers.Done()
}

func (j *job) drain(s *Scratch) {
	for {
		t := atomic.AddInt64(&j.next, 1) - 1
		if t >= j.n {
			return
		}
		j.fn(int(t), s)
	}
}

// Run calls fn(task, scratch) for every task in [0, n), in parallel, and returns when all
// calls have returned. The scratch passed to fn belongs to the goroutine running the task.
func (p *Pool) Run(n int, fn func(task int, s *Scratch)) {
	if n <= 0 {
		return
	}
	s := p.scratch.Get().(*Scratch)
	defer p.scratch.Put(s)
	if n == 1 || p.threads == 1 {
		for t := 0; t < n; t++ {
			fn(t, s)
		}
		return
	}
	j := &job{n: int64(n), fn: fn}
	helpers := p.threads - 1
	if helpers > n-1 {
		helpers = n - 1
	}
	for h := 0; h < helpers; h++ {
		select {
		case p.queue <- j:
		default: // queue full of other calls' loops: run the rest here
			h = helpers
		}
	}
	j.drain(s)
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	// Poll for the helpers' last tasks for a while (see Pool), then block.
	for deadline, i := time.Now().Add(spinWait), 0; atomic.LoadInt32(&j.running) != 0; i++ {
		if i%16 == 15 && time.Now().After(deadline) {
			break
		}
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	j.helpers.Wait()
}

// Close stops the workers; the pool must not be used afterwards.
func (p *Pool) Close() {
	close(p.quit)
	p.wg.Wait()
}

// Scratch is per-goroutine working memory, reused across tasks and calls: the GEMM's edge
// tiles, and buffers a caller's task may use (KP and VP for operands it packs, Scores, Inv).
type Scratch struct {
	a      []float32 // zero-padded A rows for edge tiles
	tileC  [mr * nr]float32
	scores []float32
	inv    []float32
	KP, VP Packed
}

func (s *Scratch) tileA(kc int) []float32 {
	if cap(s.a) < mr*kc {
		n := kcBlock
		if kc > n {
			n = kc
		}
		s.a = make([]float32, mr*n)
	}
	return s.a[:mr*kc]
}

// Scores returns a buffer of n values, reused across calls (contents undefined).
func (s *Scratch) Scores(n int) []float32 {
	if cap(s.scores) < n {
		s.scores = make([]float32, n)
	}
	return s.scores[:n]
}

// Inv returns a second buffer of n values, reused across calls (contents undefined).
func (s *Scratch) Inv(n int) []float32 {
	if cap(s.inv) < n {
		s.inv = make([]float32, n)
	}
	return s.inv[:n]
}
