package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func newServer(t *testing.T) *httptest.Server {
	dir := t.TempDir()
	for _, k := range []string{"ac", "cas"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, k), 0o755))
	}
	ts := httptest.NewServer(&server{dir: dir})
	t.Cleanup(ts.Close)
	return ts
}

func do(t *testing.T, method, url string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func TestPutThenGet(t *testing.T) {
	ts := newServer(t)
	blob := []byte("hello cache")
	sum := sha256.Sum256(blob)
	key := hex.EncodeToString(sum[:])

	code, _ := do(t, http.MethodGet, ts.URL+"/cas/"+key, nil)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = do(t, http.MethodPut, ts.URL+"/cas/"+key, blob)
	require.Equal(t, http.StatusOK, code)
	code, got := do(t, http.MethodGet, ts.URL+"/cas/"+key, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, blob, got)

	// Action results are keyed by the action digest, not by their content.
	code, _ = do(t, http.MethodPut, ts.URL+"/ac/"+key, []byte("result"))
	require.Equal(t, http.StatusOK, code)
	code, got = do(t, http.MethodGet, ts.URL+"/ac/"+key, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []byte("result"), got)
}

func TestRejects(t *testing.T) {
	ts := newServer(t)
	wrong := hex.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"cas digest mismatch", http.MethodPut, "/cas/" + wrong, http.StatusBadRequest},
		{"bad path", http.MethodGet, "/other/" + wrong, http.StatusBadRequest},
		{"short key", http.MethodGet, "/cas/abc", http.StatusBadRequest},
		{"bad method", http.MethodDelete, "/cas/" + wrong, http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := do(t, tc.method, ts.URL+tc.path, []byte("x"))
			require.Equal(t, tc.want, code)
		})
	}
	code, _ := do(t, http.MethodGet, ts.URL+"/cas/"+wrong, nil)
	require.Equal(t, http.StatusNotFound, code, "a refused upload must not be stored")
}
