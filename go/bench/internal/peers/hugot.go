package peers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// HugotModule is where the hugot peer lives: a separate Go module (its own go.mod), because
// hugot needs a much newer Go than this module's 1.19.
const HugotModule = "go/bench/peers/hugot"

// Hugot returns the hugot peer (github.com/knights-analytics/hugot, pure-Go backend) running
// the ONNX export in onnxDir. bin is a prebuilt binary; when empty the peer is built from
// repoRoot/go/bench/peers/hugot with the go on PATH into buildDir.
func Hugot(ctx context.Context, bin, repoRoot, buildDir, onnxDir string) Peer {
	p := Peer{Name: "hugot (pure go)"}
	if bin == "" {
		src := filepath.Join(repoRoot, filepath.FromSlash(HugotModule))
		if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
			p.Unavailable = fmt.Sprintf("no %s/go.mod (pass --hugot-bin)", HugotModule)
			return p
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			p.Unavailable = "no go on PATH to build the hugot peer (it needs Go >= 1.24; pass --hugot-bin)"
			return p
		}
		if err := os.MkdirAll(buildDir, 0o755); err != nil {
			p.Unavailable = err.Error()
			return p
		}
		bin = filepath.Join(buildDir, "hugot-peer")
		cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			p.Unavailable = fmt.Sprintf("building %s with %s failed: %v: %s", HugotModule, goBin, err, lastLine(strings.TrimSpace(string(out))))
			return p
		}
	}
	p.Command = []string{bin, "--model", onnxDir}
	return p
}
