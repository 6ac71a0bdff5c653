package cpu

import (
	"sync"
	"sync/atomic"
)

// pool runs parallel loops on a fixed set of threads-1 worker goroutines shared by every
// Forward call of a backend, so concurrent calls never run more than that many helpers in
// total. A loop posts itself to a queue that idle workers take from, runs tasks on the
// calling goroutine too, and returns once its tasks are done: it never waits for a worker
// busy elsewhere to pick it up.
type pool struct {
	threads int
	queue   chan *job
	quit    chan struct{}
	wg      sync.WaitGroup
	scratch sync.Pool // *scratch for calling goroutines
}

// job is one parallel loop: tasks [0, n) claimed with an atomic counter.
type job struct {
	next int64
	n    int64
	fn   func(task int, s *scratch)

	mu      sync.Mutex
	closed  bool // all tasks claimed and the caller is waiting: no new helpers
	helpers sync.WaitGroup
}

func newPool(threads int) *pool {
	if threads < 1 {
		threads = 1
	}
	p := &pool{threads: threads, queue: make(chan *job, 4*threads), quit: make(chan struct{})}
	p.scratch.New = func() interface{} { return new(scratch) }
	for i := 1; i < threads; i++ {
		p.wg.Add(1)
		go p.worker()
	}
	return p
}

func (p *pool) size() int { return p.threads }

func (p *pool) worker() {
	defer p.wg.Done()
	s := new(scratch)
	for {
		select {
		case j := <-p.queue:
			j.help(s)
		case <-p.quit:
			return
		}
	}
}

// help runs tasks of j unless the caller has already finished them.
func (j *job) help(s *scratch) {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.helpers.Add(1)
	j.mu.Unlock()
	j.drain(s)
	j.helpers.Done()
}

func (j *job) drain(s *scratch) {
	for {
		t := atomic.AddInt64(&j.next, 1) - 1
		if t >= j.n {
			return
		}
		j.fn(int(t), s)
	}
}

// run calls fn(task, scratch) for every task in [0, n), in parallel, and returns when all
// calls have returned. The scratch passed to fn belongs to the goroutine running the task.
func (p *pool) run(n int, fn func(task int, s *scratch)) {
	if n <= 0 {
		return
	}
	s := p.scratch.Get().(*scratch)
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
	j.helpers.Wait()
}

func (p *pool) close() {
	close(p.quit)
	p.wg.Wait()
}

// scratch is per-goroutine working memory, reused across tasks and calls.
type scratch struct {
	a      []float32 // zero-padded A rows for edge tiles
	tileC  [mr * nr]float32
	scores []float32
	inv    []float32
	kp, vp packed
}

func (s *scratch) tileA(kc int) []float32 {
	if cap(s.a) < mr*kc {
		n := kcBlock
		if kc > n {
			n = kc
		}
		s.a = make([]float32, mr*n)
	}
	return s.a[:mr*kc]
}

func (s *scratch) scoresBuf(n int) []float32 {
	if cap(s.scores) < n {
		s.scores = make([]float32, n)
	}
	return s.scores[:n]
}

func (s *scratch) invBuf(n int) []float32 {
	if cap(s.inv) < n {
		s.inv = make([]float32, n)
	}
	return s.inv[:n]
}
