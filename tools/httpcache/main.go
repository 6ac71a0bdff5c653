// Command httpcache is a minimal Bazel remote cache over HTTP, for tests and small teams.
//
// Bazel's HTTP caching protocol is plain GET and PUT of /ac/<sha256> (action results) and
// /cas/<sha256> (file contents); HEAD answers whether a blob exists. httpcache stores each
// object as a file under -dir. Content-addressed blobs are verified against their digest on
// upload, so a corrupt upload is refused rather than served. It exists because bazel-remote
// cannot be installed through the Go module proxy here; a team should prefer bazel-remote or
// any other maintained cache server that speaks the same protocol.
//
//	httpcache -dir /var/cache/bazel -addr 127.0.0.1:9090
//	bazel build --config=remote-cache --remote_cache=http://127.0.0.1:9090 //...
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
)

var keyRE = regexp.MustCompile(`^/(ac|cas)/([0-9a-f]{64})$`)

type server struct {
	dir               string
	hits, misses, put atomic.Int64
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := keyRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.Error(w, "want /ac/<sha256> or /cas/<sha256>", http.StatusBadRequest)
		return
	}
	kind, key := m[1], m[2]
	p := filepath.Join(s.dir, kind, key)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		f, err := os.Open(p)
		if err != nil {
			s.misses.Add(1)
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		s.hits.Add(1)
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(st.Size()))
		if r.Method == http.MethodGet {
			io.Copy(w, f)
		}
	case http.MethodPut:
		if err := s.store(kind, key, p, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.put.Add(1)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// store writes the body to a temporary file, checks a CAS blob's digest and renames it into
// place, so readers never see a partial object.
func (s *server) store(kind, key, p string, body io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, kind), "upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if kind == "cas" && hex.EncodeToString(h.Sum(nil)) != key {
		return fmt.Errorf("cas upload does not match its digest %s", key)
	}
	return os.Rename(tmp.Name(), p)
}

func main() {
	dir := flag.String("dir", "", "storage directory (required)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	addrFile := flag.String("addr-file", "", "write the address actually listened on to this file")
	flag.Parse()
	if *dir == "" {
		flag.Usage()
		os.Exit(2)
	}
	for _, k := range []string{"ac", "cas"} {
		if err := os.MkdirAll(filepath.Join(*dir, k), 0o755); err != nil {
			log.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	s := &server{dir: *dir}
	log.Printf("httpcache: serving %s on http://%s", *dir, ln.Addr())
	log.Fatal(http.Serve(ln, s))
}
