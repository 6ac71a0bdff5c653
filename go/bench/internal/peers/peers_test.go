package peers

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVectorsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "v.f32")
	var buf []byte
	for _, f := range []float32{1, -2, 0.5, 3, 4, 5} {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
	}
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := ReadVectors(p, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if v[0][1] != -2 || v[1][2] != 5 {
		t.Fatalf("%v", v)
	}
	if _, err := ReadVectors(p, 3, 3); err == nil {
		t.Fatal("short file accepted")
	}
}

func TestWriteTexts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.jsonl")
	if err := WriteTexts(p, []string{"a \"quoted\" <b>", "line\nbreak"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if got := string(b); got != "\"a \\\"quoted\\\" <b>\"\n\"line\\nbreak\"\n" {
		t.Fatalf("%q", got)
	}
}

// fakePeer writes a shell script speaking the protocol: it copies a canned result to --out.
func fakePeer(t *testing.T, result string, exit int) Peer {
	dir := t.TempDir()
	res := filepath.Join(dir, "canned.json")
	if err := os.WriteFile(res, []byte(result), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "peer.sh")
	body := "#!/bin/sh\n# args: --spec SPEC --out OUT\ntest -s \"$2\" || exit 9\ncp " + res + " \"$4\"\necho done\nexit " + string(rune('0'+exit)) + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return Peer{Name: "fake peer", Command: []string{"/bin/sh", script}}
}

func TestExec(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	ctx := context.Background()
	spec := Spec{Threads: 2, Jobs: []Job{{Name: "short", Mode: "chunked", BatchSizes: []int{1}}}}
	ok := `{"engine": "fake", "threads": 2, "jobs": [{"name": "short", "mode": "chunked", "runs": [{"batch_size": 1, "texts": 3, "seconds": 0.5, "call_ms": [1, 2, 3]}]}], "error": null}`
	res, err := Exec(ctx, fakePeer(t, ok, 0), spec, t.TempDir(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if j := res.Job("short"); j == nil || j.Runs[0].Texts != 3 || len(j.Runs[0].CallMs) != 3 {
		t.Fatalf("%+v", res)
	}

	_, err = Exec(ctx, fakePeer(t, `{"engine": "fake", "error": "ModuleNotFoundError: No module named 'torch'"}`, 1), spec, t.TempDir(), time.Minute)
	nr, isNR := err.(*NotRunError)
	if !isNR || !strings.Contains(nr.Reason, "No module named 'torch'") {
		t.Fatalf("peer error: %v", err)
	}

	_, err = Exec(ctx, Peer{Name: "missing", Unavailable: "no interpreter"}, spec, t.TempDir(), time.Minute)
	if nr, ok := err.(*NotRunError); !ok || nr.Reason != "no interpreter" {
		t.Fatalf("unavailable peer: %v", err)
	}

	p := Python("py", "/nonexistent/python3", "x.py")
	if p.Unavailable == "" {
		t.Fatal("missing interpreter not detected")
	}
}

// EnsureONNXInt8 runs quantize_onnx.py once with the float32 model and caches its output; a
// given path is used as is, a missing one is an error, a failing script leaves no model.
func TestEnsureONNXInt8(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	ctx := context.Background()
	dir := t.TempDir()
	// A fake interpreter: "python SCRIPT --onnx FP32 --out OUT --model-dir M" appends its
	// arguments to a log and writes OUT (or fails when FP32 is named "bad").
	interp := filepath.Join(dir, "python")
	log := filepath.Join(dir, "calls.log")
	body := "#!/bin/sh\necho \"$@\" >> " + log + "\ncase \"$3\" in *bad*) exit 3;; esac\necho int8 > \"$5\"\n"
	if err := os.WriteFile(interp, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	for i := 0; i < 2; i++ {
		got, err := EnsureONNXInt8(ctx, "", "/m/model.onnx", cache, interp, "/scripts", "/model")
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(cache, Int8ONNXName); got != want {
			t.Fatalf("path %s, want %s", got, want)
		}
	}
	calls, _ := os.ReadFile(log)
	want := "/scripts/quantize_onnx.py --onnx /m/model.onnx --out " + filepath.Join(cache, Int8ONNXName) + " --model-dir /model\n"
	if string(calls) != want {
		t.Errorf("calls %q, want one: %q", calls, want)
	}
	if p, err := EnsureONNXInt8(ctx, interp, "", "", "", "", ""); err != nil || p != interp {
		t.Errorf("given path: %q, %v", p, err)
	}
	if _, err := EnsureONNXInt8(ctx, filepath.Join(dir, "none.onnx"), "", "", "", "", ""); err == nil {
		t.Error("missing --onnx-int8 accepted")
	}
	other := filepath.Join(dir, "other")
	if _, err := EnsureONNXInt8(ctx, "", "/m/bad.onnx", other, interp, "/scripts", "/model"); err == nil {
		t.Error("failing quantization accepted")
	}
	if _, err := os.Stat(filepath.Join(other, Int8ONNXName)); err == nil {
		t.Error("a failed quantization left a model")
	}
}
