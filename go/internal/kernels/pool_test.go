package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoolRunsEveryTaskOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 4} {
		p := NewPool(threads)
		for _, n := range []int{0, 1, 2, 7, 100} {
			counts := make([]int32, n)
			p.Run(n, func(task int, s *Scratch) {
				if s == nil {
					t.Error("nil scratch")
				}
				atomic.AddInt32(&counts[task], 1)
			})
			for i, c := range counts {
				if c != 1 {
					t.Fatalf("threads=%d n=%d: task %d ran %d times", threads, n, i, c)
				}
			}
		}
		p.Close()
	}
}

// TestPoolHelpersTakeTasks fails if the caller of Run is left to do every task: each of
// two tasks waits for the other to start, so they only finish if a worker runs one.
func TestPoolHelpersTakeTasks(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	for round := 0; round < 50; round++ {
		var started int32
		var failed int32
		p.Run(2, func(int, *Scratch) {
			atomic.AddInt32(&started, 1)
			for deadline := time.Now().Add(5 * time.Second); atomic.LoadInt32(&started) < 2; {
				if time.Now().After(deadline) {
					atomic.StoreInt32(&failed, 1)
					return
				}
				runtime.Gosched()
			}
		})
		if failed != 0 {
			t.Fatalf("round %d: no worker took the second task within 5 s", round)
		}
		// Sometimes let the worker go from spinning to blocked before the next loop.
		if round%10 == 9 {
			time.Sleep(2 * spinWait)
		}
	}
}

// TestPoolConcurrentRunsWithFewProcs runs loops from several goroutines at once on more
// threads than Ps, so spinning workers and callers compete for one P: every task still runs.
func TestPoolConcurrentRunsWithFewProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := NewPool(3)
	defer p.Close()
	var wg sync.WaitGroup
	var total int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				p.Run(5, func(int, *Scratch) { atomic.AddInt64(&total, 1) })
			}
		}()
	}
	wg.Wait()
	if total != 4*200*5 {
		t.Fatalf("%d tasks ran, want %d", total, 4*200*5)
	}
}

var sinkF float64

// work computes for roughly d (calibrated once).
func work(d time.Duration) {
	x := 1.0
	for i := 0; i < int(d.Nanoseconds())*workPerUs/1000; i++ {
		x = x*1.0000001 + 1e-9
	}
	sinkF += x
}

var workPerUs = func() int {
	start := time.Now()
	x := 1.0
	for i := 0; i < 10000000; i++ {
		x = x*1.0000001 + 1e-9
	}
	sinkF += x
	return int(1e7 * 1e3 / float64(time.Since(start).Nanoseconds()))
}()

// BenchmarkPoolHandOff times loops of n equal tasks on two threads, as a forward pass runs
// them back to back, and reports the time per loop over the ideal n·d/2 ("x-ideal"; 1 is
// perfect, 2 is no parallelism). Waking a parked worker for every loop showed here as
// 1.7 at 2 tasks of 200 µs; the spinning hand-off (see Pool) brings it to about 1.0.
func BenchmarkPoolHandOff(b *testing.B) {
	p := NewPool(2)
	defer p.Close()
	for _, n := range []int{2, 8} {
		for _, d := range []time.Duration{50 * time.Microsecond, 200 * time.Microsecond, time.Millisecond} {
			b.Run(fmt.Sprintf("%dx%v", n, d), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					p.Run(n, func(int, *Scratch) { work(d) })
				}
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/(float64(n)*float64(d)/2), "x-ideal")
			})
		}
	}
}
