package mlpackage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Manifest is an .mlpackage's Manifest.json.
type Manifest struct {
	FileFormatVersion   string              `json:"fileFormatVersion"`
	ItemInfoEntries     map[string]ItemInfo `json:"itemInfoEntries"`
	RootModelIdentifier string              `json:"rootModelIdentifier"`
}

// ItemInfo is one manifest entry; Path is relative to the package's Data directory.
type ItemInfo struct {
	Author      string `json:"author"`
	Description string `json:"description"`
	Name        string `json:"name"`
	Path        string `json:"path"`
}

// ParseManifest decodes and checks Manifest.json.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("mlpackage: Manifest.json: %v", err)
	}
	root, ok := m.ItemInfoEntries[m.RootModelIdentifier]
	if !ok {
		return nil, fmt.Errorf("mlpackage: Manifest.json: root model %q is not among the %d item entries", m.RootModelIdentifier, len(m.ItemInfoEntries))
	}
	if err := checkRelPath(root.Path); err != nil {
		return nil, err
	}
	return &m, nil
}

func checkRelPath(p string) error {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(filepath.Clean(p), "..") {
		return fmt.Errorf("mlpackage: Manifest.json: item path %q must be relative and inside the package", p)
	}
	return nil
}

// Package is an opened .mlpackage.
type Package struct {
	Dir       string
	Manifest  *Manifest
	ModelPath string // the root model's protobuf file
	Model     *Model

	mu    sync.Mutex
	blobs map[string]*BlobFile
}

// Open reads the manifest and decodes the root model of the package at dir. A directory
// without Manifest.json is rejected; weight files are read on first use.
func Open(dir string) (*Package, error) {
	mb, err := os.ReadFile(filepath.Join(dir, "Manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("mlpackage: %w", err)
	}
	man, err := ParseManifest(mb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	modelPath := filepath.Join(dir, "Data", man.ItemInfoEntries[man.RootModelIdentifier].Path)
	b, err := os.ReadFile(modelPath)
	if err != nil {
		return nil, fmt.Errorf("mlpackage: %w", err)
	}
	m, err := DecodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelPath, err)
	}
	return &Package{Dir: dir, Manifest: man, ModelPath: modelPath, Model: m, blobs: map[string]*BlobFile{}}, nil
}

// BlobFilePath resolves a BlobFileValue file name ("@model_path/weights/weight.bin") to a
// path on disk; @model_path is the directory holding the model protobuf.
func (p *Package) BlobFilePath(name string) (string, error) {
	const prefix = "@model_path/"
	if !strings.HasPrefix(name, prefix) {
		return "", fmt.Errorf("mlpackage: blob file %q does not start with %s", name, prefix)
	}
	rel := name[len(prefix):]
	if err := checkRelPath(rel); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(p.ModelPath), rel), nil
}

// Blob returns the (cached) blob file a BlobFileValue names.
func (p *Package) Blob(name string) (*BlobFile, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.blobs[name]; ok {
		return f, nil
	}
	path, err := p.BlobFilePath(name)
	if err != nil {
		return nil, err
	}
	f, err := OpenBlobFile(path)
	if err != nil {
		return nil, err
	}
	p.blobs[name] = f
	return f, nil
}

// SetBlob installs an in-memory blob file under name (for tests and tools that build
// packages in memory).
func (p *Package) SetBlob(name string, f *BlobFile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blobs == nil {
		p.blobs = map[string]*BlobFile{}
	}
	p.blobs[name] = f
}

// WeightBytes is the total size of the package's weight files (Data/*/weights/*). Symlinks
// are followed: Bazel runfiles and sandboxes present packages as symlink trees.
func (p *Package) WeightBytes() int64 {
	dir := filepath.Join(filepath.Dir(p.ModelPath), "weights")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

// Const is a materialized constant: every numeric type widened to float32 (integers exact up
// to 2^24), strings kept as strings.
type Const struct {
	DataType DataType
	Shape    []int
	Values   []float32
	Strings  []string
}

// maxConstElements bounds a constant's declared size before anything is allocated.
const maxConstElements = 1 << 31

// TensorShape returns the static shape of a tensor type, or an error if a dimension is unknown.
func TensorShape(t *TensorType) ([]int, int, error) {
	if t == nil {
		return nil, 0, fmt.Errorf("mlpackage: value is not a tensor")
	}
	if t.Rank != int64(len(t.Dims)) {
		return nil, 0, fmt.Errorf("mlpackage: tensor of rank %d lists %d dimensions", t.Rank, len(t.Dims))
	}
	shape := make([]int, len(t.Dims))
	n := 1
	for i, d := range t.Dims {
		if !d.Known {
			return nil, 0, fmt.Errorf("mlpackage: constant has an unknown dimension %d", i)
		}
		if d.Size > maxConstElements || (d.Size > 0 && uint64(n) > maxConstElements/d.Size) {
			return nil, 0, fmt.Errorf("mlpackage: constant shape %v is too large", t.Dims)
		}
		shape[i] = int(d.Size)
		n *= int(d.Size)
	}
	return shape, n, nil
}

// ConstValue materializes a value: an immediate tensor or a blob file reference.
func (p *Package) ConstValue(v *Value) (*Const, error) {
	if v == nil || v.Type == nil || v.Type.Tensor == nil {
		return nil, fmt.Errorf("mlpackage: constant without a tensor type")
	}
	shape, n, err := TensorShape(v.Type.Tensor)
	if err != nil {
		return nil, err
	}
	dt := v.Type.Tensor.DataType
	c := &Const{DataType: dt, Shape: shape}
	switch {
	case v.Blob != nil:
		f, err := p.Blob(v.Blob.FileName)
		if err != nil {
			return nil, err
		}
		c.Values, err = f.Elements(v.Blob.Offset, dt, n)
		if err != nil {
			return nil, err
		}
	case v.Immediate != nil:
		if err := immediate(c, v.Immediate, n); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("mlpackage: constant is neither an immediate tensor nor a blob reference")
	}
	return c, nil
}

// ImmediateConst materializes an immediate value (no blob file needed).
func ImmediateConst(v *Value) (*Const, error) {
	if v != nil && v.Blob != nil {
		return nil, fmt.Errorf("mlpackage: value refers to blob file %q", v.Blob.FileName)
	}
	return (&Package{}).ConstValue(v)
}

func immediate(c *Const, tv *TensorValue, n int) error {
	count := 0
	switch tv.Kind {
	case int(fTVFloats):
		c.Values, count = tv.Floats, len(tv.Floats)
	case int(fTVDoubles):
		c.Values = make([]float32, len(tv.Doubles))
		for i, d := range tv.Doubles {
			c.Values[i] = float32(d)
		}
		count = len(tv.Doubles)
	case int(fTVInts):
		c.Values = make([]float32, len(tv.Ints))
		for i, d := range tv.Ints {
			c.Values[i] = float32(d)
		}
		count = len(tv.Ints)
	case int(fTVLongInts):
		c.Values = make([]float32, len(tv.LongInts))
		for i, d := range tv.LongInts {
			c.Values[i] = float32(d)
		}
		count = len(tv.LongInts)
	case int(fTVBools):
		c.Values = make([]float32, len(tv.Bools))
		for i, d := range tv.Bools {
			if d {
				c.Values[i] = 1
			}
		}
		count = len(tv.Bools)
	case int(fTVStrings):
		c.Strings, count = tv.Strings, len(tv.Strings)
	case int(fTVBytes):
		vals, err := DecodeElements(c.DataType, tv.Bytes, n)
		if err != nil {
			return err
		}
		c.Values, count = vals, n
	default:
		return fmt.Errorf("mlpackage: empty immediate tensor value")
	}
	if count != n {
		return fmt.Errorf("mlpackage: immediate %v tensor of shape %v holds %d values", c.DataType, c.Shape, count)
	}
	return nil
}
