// Command checkresults is the assertion of the benchmark smoke tests: it checks that a
// benchmark output directory holds the given files, non-empty, and that its results.json
// parses, holds only finite numbers and has the given keys.
//
//	checkresults DIR file1,file2,... [key ...]
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minilm-coreml/minilm/go/bench/internal/report"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: checkresults DIR file1,file2,... [key ...]")
		os.Exit(2)
	}
	dir := os.Args[1]
	for _, f := range strings.Split(os.Args[2], ",") {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			fail(err)
		}
		if fi.Size() == 0 {
			fail(fmt.Errorf("%s is empty", f))
		}
	}
	if err := report.CheckFinite(filepath.Join(dir, "results.json"), os.Args[3:]...); err != nil {
		fail(err)
	}
	fmt.Printf("ok: %s has %s and finite results\n", dir, os.Args[2])
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "checkresults:", err)
	os.Exit(1)
}
