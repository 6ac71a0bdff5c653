//go:build !darwin || !cgo

package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

// TestCoreMLPlanOffDarwin: without Core ML the command fails with a message saying why and a
// non-zero exit code; command-line mistakes are usage errors.
func TestCoreMLPlanOffDarwin(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no Core ML here", []string{"coreml-plan", "m.mlpackage"}, exitError, "coreml-plan: coreml unavailable: Core ML runs only on macOS; this is " + runtime.GOOS},
		{"no model", []string{"coreml-plan"}, exitUsage, "want one MODEL, got 0 arguments"},
		{"bad units", []string{"coreml-plan", "--compute-units", "ane", "m.mlpackage"}, exitUsage, `unknown compute units "ane"`},
	}
	if runtime.GOOS == "darwin" { // a darwin build without cgo
		tests[0].wantErr = "coreml unavailable: this build has no cgo"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }})
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantErr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"help", "coreml-plan"}, env{stdout: &stdout, stderr: &stdout}); code != exitOK || !strings.Contains(stdout.String(), "MLComputePlan takes no input shape") {
		t.Errorf("help coreml-plan: exit %d, output %q", code, stdout.String())
	}
}
