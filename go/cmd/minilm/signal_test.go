package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
)

// envChild makes the test binary run the CLI's main instead of the tests: signal tests
// start it as a child process, as a user's shell would start minilm.
const envChild = "MINILM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		var args []string
		if err := json.Unmarshal([]byte(os.Getenv(envChild+"_ARGS")), &args); err != nil {
			panic(err)
		}
		os.Args = append([]string{"minilm"}, args...)
		main()
		return
	}
	os.Exit(testmodel.Main(m))
}

// child is the CLI running as a separate process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	vars := modelVars(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(exe)}
	argsJSON, _ := json.Marshal(args)
	c.cmd.Env = append(os.Environ(), envChild+"=1", envChild+"_ARGS="+string(argsJSON),
		"MINILM_MODEL_DIR="+vars["MINILM_MODEL_DIR"])
	c.cmd.Stderr = &c.stderr
	c.cmd.Stdout = io.Discard
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill() })
	return c
}

// waitExit waits for the child and returns its exit code; it fails after a timeout.
func (c *child) waitExit(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		t.Fatalf("the CLI did not exit within 60 s of the signal; stderr: %s", c.stderr.String())
	}
	return c.cmd.ProcessState.ExitCode()
}

// waitFor polls until cond holds, or fails after a timeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestSignals sends INT, TERM and HUP to the CLI while it reads a pipe that stays open and
// while it embeds, and checks the exit code (128 + the signal), the message, and that
// nothing is left at the destination or beside it.
func TestSignals(t *testing.T) {
	_ = modelVars(t) // skip without the model
	big := filepath.Join(t.TempDir(), "big.txt")
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "sentence number %d about something a little longer than a word or two\n", i)
	}
	if err := os.WriteFile(big, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		for _, phase := range []string{"mid-read", "mid-run"} {
			t.Run(fmt.Sprintf("%v %s", sig, phase), func(t *testing.T) {
				out := t.TempDir()
				dest := filepath.Join(out, "out.npy")
				var c *child
				if phase == "mid-read" {
					// The writer stays open: the CLI is blocked reading standard input.
					c = startChild(t, "embed", "-", "-o", dest)
					if _, err := io.WriteString(c.stdin, "one text\nanother\n"); err != nil {
						t.Fatal(err)
					}
					// The destination's temporary file exists once the model is loaded and
					// reading has begun.
					waitFor(t, "the temporary output file", func() bool { return len(dirEntries(t, out)) > 0 })
					time.Sleep(200 * time.Millisecond)
				} else {
					c = startChild(t, "embed", big, "-o", dest, "--workers", "1")
					c.stdin.Close()
					waitFor(t, "the temporary output file", func() bool { return len(dirEntries(t, out)) > 0 })
					time.Sleep(500 * time.Millisecond) // embedding is under way
				}
				if err := c.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				code := c.waitExit(t)
				if code != 128+int(sig) {
					t.Errorf("exit code %d, want %d; stderr: %s", code, 128+int(sig), c.stderr.String())
				}
				if want := "interrupted by " + sig.String(); !strings.Contains(c.stderr.String(), want) {
					t.Errorf("stderr %q does not say %q", c.stderr.String(), want)
				}
				if left := dirEntries(t, out); len(left) != 0 {
					t.Errorf("left behind in the output directory: %v", left)
				}
			})
		}
	}
}
