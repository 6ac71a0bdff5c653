// Command dettar writes a deterministic .tar.gz and a SHA256SUMS file for it.
//
// Release archives must be byte-for-byte identical whoever builds them, so dettar sorts
// entries by path, sets every mtime to a fixed time, owners to 0:0 with empty names, modes to
// 0755 for names matching an -x pattern and 0644 otherwise (Bazel makes every output
// executable, so source modes say nothing), follows symlinks (Bazel tree artifacts and runfiles
// are symlink farms) and writes a gzip header with no name and no timestamp. No packaging rule
// set (rules_pkg) can be fetched in this offline workspace, hence this small tool.
//
// Usage:
//
//	dettar -o release.tar.gz -sums SHA256SUMS -prefix minilm-0.1.0 -x 'bin/*/*' DEST=SRC...
//
// Each DEST=SRC adds the file or directory SRC under DEST in the archive. SHA256SUMS lists
// the sha256 of every archived file (as `sha256sum -c` reads it) and then of the archive itself.
package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// epoch is the fixed modification time of every entry (the SOURCE_DATE_EPOCH convention's
// usual choice for "no date": 1980-01-01, the earliest zip time, also safe for tar readers).
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

type entry struct {
	name string // path inside the archive
	src  string // file on disk; empty for a directory
	exec bool
}

func main() {
	out := flag.String("o", "", "output .tar.gz (required)")
	sums := flag.String("sums", "", "output SHA256SUMS file (optional)")
	prefix := flag.String("prefix", "", "top-level directory inside the archive (optional)")
	var execs patterns
	flag.Var(&execs, "x", "archive path pattern (path.Match, without the prefix) of executables; repeatable")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: dettar -o OUT.tar.gz [-sums SHA256SUMS] [-prefix DIR] DEST=SRC...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *sums, *prefix, execs, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "dettar:", err)
		os.Exit(1)
	}
}

// patterns is a repeatable flag.
type patterns []string

func (p *patterns) String() string     { return strings.Join(*p, ",") }
func (p *patterns) Set(v string) error { *p = append(*p, v); return nil }

func run(out, sums, prefix string, execs []string, mappings []string) error {
	for _, pat := range execs {
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("bad -x pattern %q: %w", pat, err)
		}
	}
	entries, err := collect(prefix, mappings)
	if err != nil {
		return err
	}
	for i := range entries {
		name := strings.TrimPrefix(strings.TrimPrefix(entries[i].name, prefix), "/")
		for _, pat := range execs {
			if ok, _ := path.Match(pat, name); ok {
				entries[i].exec = true
			}
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	fileSums, err := write(f, entries)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if sums == "" {
		return nil
	}
	archiveSum, err := sha256File(out)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range fileSums {
		fmt.Fprintf(&b, "%s  %s\n", e[1], e[0])
	}
	fmt.Fprintf(&b, "%s  %s\n", archiveSum, filepath.Base(out))
	return os.WriteFile(sums, []byte(b.String()), 0o644)
}

// collect expands DEST=SRC mappings into a sorted list of entries, directories included.
func collect(prefix string, mappings []string) ([]entry, error) {
	byName := map[string]entry{}
	add := func(e entry) error {
		if old, ok := byName[e.name]; ok && old.src != e.src {
			return fmt.Errorf("two sources for %s: %s and %s", e.name, old.src, e.src)
		}
		byName[e.name] = e
		for d := path.Dir(e.name); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := byName[d]; !ok {
				byName[d] = entry{name: d}
			}
		}
		return nil
	}
	for _, m := range mappings {
		i := strings.IndexByte(m, '=')
		if i <= 0 || i == len(m)-1 {
			return nil, fmt.Errorf("mapping %q is not DEST=SRC", m)
		}
		dest := path.Clean(path.Join(prefix, m[:i]))
		if strings.HasPrefix(dest, "../") || path.IsAbs(dest) {
			return nil, fmt.Errorf("mapping %q leaves the archive root", m)
		}
		src := m[i+1:]
		st, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if err := add(entry{name: dest, src: src}); err != nil {
				return nil, err
			}
			continue
		}
		if err := add(entry{name: dest}); err != nil {
			return nil, err
		}
		if err := walk(src, dest, add); err != nil {
			return nil, err
		}
	}
	list := make([]entry, 0, len(byName))
	for _, e := range byName {
		list = append(list, e)
	}
	sort.Slice(list, func(a, b int) bool { return list[a].name < list[b].name })
	return list, nil
}

// walk visits a directory tree, following symlinks (filepath.Walk does not).
func walk(dir, dest string, add func(entry) error) error {
	names, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		src := filepath.Join(dir, n.Name())
		name := path.Join(dest, n.Name())
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := add(entry{name: name}); err != nil {
				return err
			}
			if err := walk(src, name, add); err != nil {
				return err
			}
			continue
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", src)
		}
		if err := add(entry{name: name, src: src}); err != nil {
			return err
		}
	}
	return nil
}

// write streams the entries into a gzip'd tar and returns (name, sha256) of each file.
func write(w io.Writer, entries []entry) ([][2]string, error) {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// gzip.Header's zero value: no name, no comment, ModTime zero (written as 0), OS unknown.
	tw := tar.NewWriter(gz)
	var sums [][2]string
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			ModTime: epoch,
			Format:  tar.FormatPAX,
		}
		if e.src == "" {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
			h.Mode = 0o755
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			continue
		}
		f, err := os.Open(e.src)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		h.Typeflag = tar.TypeReg
		h.Size = st.Size()
		h.Mode = 0o644
		if e.exec {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			f.Close()
			return nil, err
		}
		sum := sha256.New()
		n, err := io.Copy(io.MultiWriter(tw, sum), f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.src, err)
		}
		if n != st.Size() {
			return nil, fmt.Errorf("%s changed size while archiving", e.src)
		}
		sums = append(sums, [2]string{e.name, hex.EncodeToString(sum.Sum(nil))})
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return sums, nil
}

func sha256File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
