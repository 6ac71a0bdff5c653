package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestServeDrainsOnSIGTERM starts `minilm serve` as a child process, loads it from 32
// clients, sends SIGTERM mid-load, and checks that the server exits 0 and that every request
// it admitted got its answer: the 200s it logged are exactly the 200s the clients received,
// and no client saw any other status.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	vars := modelVars(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Small batches keep most requests queued (admitted, waiting) when the signal comes.
	args, _ := json.Marshal([]string{"serve", "--addr", "127.0.0.1:0", "--backend", "cpu", "--max-batch-requests", "4"})
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envChild+"=1", envChild+"_ARGS="+string(args), "MINILM_MODEL_DIR="+vars["MINILM_MODEL_DIR"])
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	var (
		mu    sync.Mutex
		lines []map[string]interface{}
	)
	urlc, readyc := make(chan string, 1), make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]interface{}
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				t.Logf("stderr: %s", sc.Text())
				continue
			}
			mu.Lock()
			lines = append(lines, m)
			mu.Unlock()
			switch m["msg"] {
			case "listening":
				urlc <- m["url"].(string)
			case "ready":
				close(readyc)
			}
		}
	}()
	var url string
	select {
	case url = <-urlc:
	case <-time.After(60 * time.Second):
		t.Fatal("no listening line")
	}
	select {
	case <-readyc:
	case <-time.After(60 * time.Second):
		t.Fatal("not ready")
	}

	var ok, other, failed, lost int64
	var sigAt atomic.Value // time.Time of the SIGTERM
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			client := &http.Client{Timeout: 60 * time.Second}
			for i := 0; i < 200; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := `{"input": ["client ` + strings.Repeat("text ", 40+c+i%7) + `", "another", "` + strings.Repeat("more words ", 100) + `"]}`
				start := time.Now()
				resp, err := client.Post(url+"/v1/embeddings", "application/json", strings.NewReader(body))
				if err != nil {
					// A request sent 50 ms or more before the signal was read by the server
					// (admitted): it must be answered. Later ones may find the listener
					// closed, or their idle connection closed: not admitted.
					if at, ok := sigAt.Load().(time.Time); ok && start.Before(at.Add(-50*time.Millisecond)) {
						atomic.AddInt64(&lost, 1)
						t.Errorf("a request sent %v before SIGTERM failed: %v", at.Sub(start), err)
					}
					atomic.AddInt64(&failed, 1)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && bytes.Contains(b, []byte(`"embedding"`)) {
					atomic.AddInt64(&ok, 1)
				} else {
					atomic.AddInt64(&other, 1)
					t.Errorf("status %d during drain: %.200s", resp.StatusCode, b)
				}
			}
		}(c)
	}
	for atomic.LoadInt64(&ok) < 64 {
		time.Sleep(10 * time.Millisecond)
	}
	sigAt.Store(time.Now())
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not exit within 60 s of SIGTERM")
	}
	close(stop)
	wg.Wait()
	<-logDone
	var logged200, loggedOther int64
	stopped := false
	for _, m := range lines {
		if m["msg"] == "request" && m["status"] == float64(200) {
			logged200++
		} else if m["msg"] == "request" && m["status"] != float64(499) {
			// 499: the connection closed under the request. net/http's Shutdown closes
			// connections it sees idle, which races with a request arriving on one; that
			// client sees a closed connection, like one that found the listener closed.
			// Requests sent well before the signal are checked on the client side (lost).
			loggedOther++
			t.Errorf("the server answered an admitted request with %v: %v", m["status"], m["error"])
		}
		if m["msg"] == "stopped" {
			stopped = true
		}
	}
	if !stopped || other != 0 || loggedOther != 0 || lost != 0 || logged200 != ok {
		t.Fatalf("stopped %v; server answered %d requests with 200, clients received %d; %d other statuses", stopped, logged200, ok, other)
	}
	t.Logf("%d requests answered, %d clients found the listener closed", ok, failed)
}
