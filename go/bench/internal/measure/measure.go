// Package measure holds the measuring tools of the benchmarks: latency percentiles, a
// sampler of the Go heap's peak, the process's peak resident set (VmHWM), and a description
// of the machine.
package measure

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Percentile returns the p-th percentile (0..100) of xs by linear interpolation between the
// closest ranks (numpy's default method). It returns 0 for an empty slice.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if p <= 0 {
		return s[0]
	}
	if p >= 100 {
		return s[len(s)-1]
	}
	pos := p / 100 * float64(len(s)-1)
	lo := int(pos)
	frac := pos - float64(lo)
	if lo+1 >= len(s) {
		return s[lo]
	}
	return s[lo] + frac*(s[lo+1]-s[lo])
}

// Millis converts durations to milliseconds.
func Millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// MemPeak is the largest value each Go runtime statistic reached while sampling.
type MemPeak struct {
	HeapSys   uint64 `json:"heap_sys_bytes"`   // bytes of heap memory obtained from the OS
	HeapInuse uint64 `json:"heap_inuse_bytes"` // bytes in in-use heap spans
	Sys       uint64 `json:"sys_bytes"`        // all memory obtained from the OS by the Go runtime
}

// Sampler records the peak of the Go runtime's memory statistics while a measurement runs.
// It reads them with runtime/metrics, which does not stop the world: runtime.ReadMemStats
// does, and at the benchmarks' 10 ms interval it slowed the encoder it was watching by
// several percent (long texts at batch 1: 58 texts/s with ReadMemStats every 10 ms, 64
// with it every second, in the same session).
type Sampler struct {
	stop    chan struct{}
	done    sync.WaitGroup
	mu      sync.Mutex
	peak    MemPeak
	samples []metrics.Sample
}

// The runtime/metrics names behind MemPeak: HeapInuse is objects + unused (in-use spans),
// HeapSys adds free and released heap memory, Sys is total.
var sampleNames = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/total:bytes",
}

// StartSampler returns the Go memory to the OS, resets the peak resident set size, and
// starts sampling the runtime's memory statistics every interval until Stop.
func StartSampler(interval time.Duration) *Sampler {
	debug.FreeOSMemory()
	ResetPeakRSS()
	s := &Sampler{stop: make(chan struct{}), samples: make([]metrics.Sample, len(sampleNames))}
	for i, name := range sampleNames {
		s.samples[i].Name = name
	}
	s.sample()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *Sampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	metrics.Read(s.samples)
	v := func(i int) uint64 { return s.samples[i].Value.Uint64() }
	inuse := v(0) + v(1)
	heapSys := inuse + v(2) + v(3)
	if heapSys > s.peak.HeapSys {
		s.peak.HeapSys = heapSys
	}
	if inuse > s.peak.HeapInuse {
		s.peak.HeapInuse = inuse
	}
	if t := v(4); t > s.peak.Sys {
		s.peak.Sys = t
	}
}

// Stop ends sampling and returns the peaks (including one last sample).
func (s *Sampler) Stop() MemPeak {
	close(s.stop)
	s.done.Wait()
	s.sample()
	return s.peak
}

// ResetPeakRSS sets the process's peak resident set size (VmHWM) to its current RSS, so a
// later PeakRSS covers only what follows. Linux only (writes 5 to /proc/self/clear_refs);
// it reports whether the reset worked.
func ResetPeakRSS() bool {
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.WriteString("5")
	return err == nil
}

// PeakRSS returns VmHWM from /proc/self/status in bytes, or 0 where it is not available.
func PeakRSS() uint64 { return statusBytes("VmHWM:") }

// RSS returns VmRSS from /proc/self/status in bytes, or 0 where it is not available.
func RSS() uint64 { return statusBytes("VmRSS:") }

func statusBytes(key string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, key) {
			fields := strings.Fields(line[len(key):])
			if len(fields) == 0 {
				return 0
			}
			kb, err := strconv.ParseUint(fields[0], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// Machine describes where a benchmark ran.
type Machine struct {
	CPU        string `json:"cpu"`
	CPUFlags   string `json:"cpu_simd,omitempty"` // the SIMD features the kernels care about
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
	Kernel     string `json:"kernel,omitempty"`
	MemTotal   uint64 `json:"mem_total_bytes,omitempty"`
	Load1      string `json:"load_avg_at_start,omitempty"`
	Hostname   string `json:"hostname,omitempty"`
}

// DescribeMachine reads /proc (Linux) and the Go runtime.
func DescribeMachine() Machine {
	m := Machine{
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		GoVersion:  runtime.Version(),
	}
	m.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := cut(line, ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch {
			case (k == "model name" || k == "Hardware" || k == "CPU part") && m.CPU == "":
				m.CPU = v
			case k == "flags" && m.CPUFlags == "":
				var simd []string
				for _, f := range strings.Fields(v) {
					switch f {
					case "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16":
						simd = append(simd, f)
					}
				}
				m.CPUFlags = strings.Join(simd, " ")
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load1 = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				if f := strings.Fields(line); len(f) >= 2 {
					kb, _ := strconv.ParseUint(f[1], 10, 64)
					m.MemTotal = kb * 1024
				}
			}
		}
	}
	if m.CPU == "" {
		m.CPU = "unknown (" + runtime.GOARCH + ")"
	}
	return m
}

// cut is strings.Cut, which Go 1.17 lacks; kept local for clarity.
func cut(s, sep string) (before, after string, found bool) {
	if i := strings.Index(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// LoadAvg1 returns the one-minute load average, or -1 if unknown.
func LoadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
