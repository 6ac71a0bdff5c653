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
