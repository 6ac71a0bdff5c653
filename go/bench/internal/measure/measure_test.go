package measure

import (
	"runtime"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3} // sorted: 1 2 3 4 5
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {50, 3}, {100, 5}, {25, 2}, {99, 4.96}, {10, 1.4},
	} {
		if got := Percentile(xs, tc.p); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if Percentile(nil, 50) != 0 || Percentile([]float64{7}, 99) != 7 {
		t.Error("edge cases")
	}
	if xs[0] != 5 {
		t.Error("input was reordered")
	}
}

func TestSamplerSeesAllocation(t *testing.T) {
	s := StartSampler(time.Millisecond)
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	time.Sleep(5 * time.Millisecond)
	p := s.Stop()
	runtime.KeepAlive(buf)
	if p.HeapSys < 64<<20 || p.Sys < p.HeapSys {
		t.Fatalf("peak %+v misses a 64 MiB allocation", p)
	}
	if runtime.GOOS == "linux" && PeakRSS() < 64<<20 {
		t.Fatalf("VmHWM %d misses a 64 MiB allocation", PeakRSS())
	}
}

func TestDescribeMachine(t *testing.T) {
	m := DescribeMachine()
	if m.NumCPU < 1 || m.GOMAXPROCS < 1 || m.CPU == "" {
		t.Fatalf("%+v", m)
	}
}

// TestSamplerMatchesMemStats checks that the runtime/metrics sums behind MemPeak are the
// runtime.MemStats fields they stand for.
func TestSamplerMatchesMemStats(t *testing.T) {
	keep := make([]byte, 32<<20)
	for i := range keep {
		keep[i] = 1
	}
	s := StartSampler(time.Hour) // one sample at the start, one at Stop
	p := s.Stop()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(keep)
	near := func(name string, got, want uint64) {
		if d := int64(got) - int64(want); d < -1<<20 || d > 1<<20 {
			t.Errorf("%s: sampler %d, MemStats %d", name, got, want)
		}
	}
	near("HeapSys", p.HeapSys, m.HeapSys)
	near("HeapInuse", p.HeapInuse, m.HeapInuse)
	near("Sys", p.Sys, m.Sys)
}
