// Package silentimport_test checks that importing go/embed has no side effect at start-up:
// a program that imports it (embedtwo) must start, embed and exit without writing to stderr
// or creating files, whatever HOME is. github.com/sugarme/tokenizer once broke this: its
// package init logged "INFO: CachedDir=..." and exited the process when $HOME/.cache could
// not be created.
package silentimport_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
)

// TestMain reports how many tests were skipped for want of the model directory.
func TestMain(m *testing.M) { os.Exit(testmodel.Main(m)) }

// envBinary names the environment variable that gives the embedtwo binary (Bazel builds it
// as a go_binary and passes it as data); without it the test builds embedtwo with `go build`.
const envBinary = "SILENTIMPORT_BIN"

// embedtwo returns the path of the embedtwo program.
func embedtwo(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv(envBinary); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Fatalf("neither %s nor a go tool to build embedtwo: %v", envBinary, err)
		}
	}
	bin := filepath.Join(t.TempDir(), "embedtwo")
	out, err := exec.Command(goTool, "build", "-o", bin, "./embedtwo").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./embedtwo: %v\n%s", err, out)
	}
	watchSources(t, goTool)
	return bin
}

// watchSources reads the directory listing of every non-standard package embedtwo is built
// from, and the module's go.mod and go.sum. go test caches a test's result keyed on the
// files and directories the test itself opens, not on what a `go build` it runs reads: this
// makes a change to any of those packages (a new file importing sugarme, say) rerun the test.
func watchSources(t *testing.T, goTool string) {
	t.Helper()
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./embedtwo").Output()
	if err != nil {
		t.Fatalf("go list -deps ./embedtwo: %v", err)
	}
	for _, dir := range strings.Fields(string(out)) {
		if _, err := os.ReadDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if _, err := os.ReadFile(testmodel.RepoFile(t, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// homeCase prepares HOME for one run: it returns the environment entries to add (none to
// leave HOME unset) and a check run afterwards.
type homeCase struct {
	name  string
	setup func(t *testing.T) (env []string, after func(t *testing.T))
}

var homeCases = []homeCase{
	{"HOME unset", func(t *testing.T) ([]string, func(*testing.T)) {
		// Without HOME, "$HOME/.cache" is "/.cache": as root, a side effect would create it.
		_, err := os.Stat("/.cache")
		absent := os.IsNotExist(err)
		return nil, func(t *testing.T) {
			if _, err := os.Stat("/.cache"); absent && err == nil {
				t.Errorf("/.cache was created by the run")
			}
		}
	}},
	{"HOME read-only", func(t *testing.T) ([]string, func(*testing.T)) {
		if os.Geteuid() == 0 && runtime.GOOS == "linux" {
			// File permissions do not bind root: use a HOME on procfs, where nothing can be
			// created, as in a read-only HOME (mkdir fails, Stat says it does not exist).
			return []string{"HOME=/proc/self/minilm-readonly-home"}, func(*testing.T) {}
		}
		home := filepath.Join(t.TempDir(), "home")
		if err := os.Mkdir(home, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(home, 0o755) })
		return []string{"HOME=" + home}, func(t *testing.T) { expectEntries(t, home, nil) }
	}},
	{"HOME normal", func(t *testing.T) ([]string, func(*testing.T)) {
		home := t.TempDir()
		return []string{"HOME=" + home}, func(t *testing.T) { expectEntries(t, home, nil) }
	}},
}

// expectEntries fails unless dir holds exactly the names want: the program created nothing.
func expectEntries(t *testing.T, dir string, want []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s holds %q after the run, want %q: the program created files", dir, got, want)
	}
}

// baseEnv is the environment of every run: PATH only, so no HOME, GO_TOKENIZER,
// XDG_CACHE_HOME or MINILM_* setting of the test's own environment leaks in.
func baseEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH")}
}

// run starts bin with args in an empty working directory and returns its stdout. It fails
// the test if the program exits non-zero, writes anything to stderr or leaves a file in its
// working directory.
func run(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		t.Errorf("%s %q with env %q: %v", filepath.Base(bin), args, env, err)
	}
	if stderr.Len() > 0 {
		t.Errorf("%s %q with env %q wrote to stderr:\n%s", filepath.Base(bin), args, env, stderr.String())
	}
	expectEntries(t, cmd.Dir, nil)
	return stdout.String()
}

var embedLine = regexp.MustCompile(`^vectors=2 dim=384 cosine=([0-9.]+)\n$`)

// TestImportIsSilent runs embedtwo under each HOME case: once with no argument (start-up
// alone, which needs no model) and once embedding two texts.
func TestImportIsSilent(t *testing.T) {
	bin := embedtwo(t)
	for _, hc := range homeCases {
		t.Run(hc.name, func(t *testing.T) {
			t.Run("start", func(t *testing.T) {
				env, after := hc.setup(t)
				if out := run(t, bin, env); out != "usage: embedtwo MODEL_DIR\n" {
					t.Errorf("stdout %q, want the usage line", out)
				}
				after(t)
			})
			t.Run("embed", func(t *testing.T) {
				dir := testmodel.ModelDir(t)
				env, after := hc.setup(t)
				out := run(t, bin, env, dir)
				m := embedLine.FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("stdout %q, want %q", out, embedLine)
				}
				// The two sentences are close paraphrases: a sane cosine, not a fixed value
				// (go/embed's parity tests check the vectors themselves).
				if c, err := strconv.ParseFloat(m[1], 64); err != nil || c < 0.5 || c > 0.95 {
					t.Errorf("cosine %s: %v, want within [0.5, 0.95]", m[1], err)
				}
				after(t)
			})
		})
	}
}
