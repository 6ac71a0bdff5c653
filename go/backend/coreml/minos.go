package coreml

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minilm-coreml/minilm/go/backend/coreml/internal/modelspec"
)

// UnavailableError says why Core ML cannot run a model here: the platform (not darwin, or no
// cgo), an operating system older than the model needs, or a model Core ML could not compile
// or load. errors.Is(err, ErrUnavailable) holds for every UnavailableError, and Unwrap gives
// the underlying error, if any (errors.Is(err, fs.ErrNotExist) for a missing model).
//
// Callers that fall back to another backend can show Reason, e.g.
// "cpu (coreml unavailable: requires macOS 15 (model specification version 9), this is macOS 14.5)".
type UnavailableError struct {
	// Reason is a short sentence naming the requirement that is not met, without the
	// "coreml" prefix, e.g. "requires macOS 15 (model specification version 9), this is macOS 14.5".
	Reason string
	// Err is the underlying error, or nil.
	Err error
}

// Error implements error: "coreml unavailable: " + Reason, then the underlying error.
func (e *UnavailableError) Error() string {
	if e.Err != nil {
		return "coreml unavailable: " + e.Reason + ": " + e.Err.Error()
	}
	return "coreml unavailable: " + e.Reason
}

// Unwrap returns the underlying error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is reports whether target is ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// OSVersion is a macOS version.
type OSVersion struct {
	Major, Minor, Patch int
}

// AtLeast reports whether v is the same as or later than min.
func (v OSVersion) AtLeast(min OSVersion) bool {
	if v.Major != min.Major {
		return v.Major > min.Major
	}
	if v.Minor != min.Minor {
		return v.Minor > min.Minor
	}
	return v.Patch >= min.Patch
}

// String formats the version as Apple does: "15", "14.4", "10.13.2".
func (v OSVersion) String() string {
	switch {
	case v.Patch != 0:
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	case v.Minor != 0:
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
	return strconv.Itoa(v.Major)
}

// parseOSVersion parses "15", "14.4" or "10.13.2".
func parseOSVersion(s string) (OSVersion, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) == 0 || len(parts) > 3 {
		return OSVersion{}, fmt.Errorf("bad OS version %q", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return OSVersion{}, fmt.Errorf("bad OS version %q", s)
		}
		n[i] = v
	}
	return OSVersion{n[0], n[1], n[2]}, nil
}

// MinMacOSForSpec returns the first macOS that loads Core ML models of the given
// specification version, and false for versions this table does not know (newer than 10).
//
// Source: coremltools 9.0, coremltools/__init__.py (_SPECIFICATION_VERSION_IOS_13 = 4 ...
// _SPECIFICATION_VERSION_IOS_26 = 10) and converters/mil/_deployment_compatibility.py
// (macOS10_15 = iOS13, macOS11 = iOS14, macOS12 = iOS15, macOS13 = iOS16, macOS14 = iOS17,
// macOS15 = iOS18, macOS26 = iOS26); versions 1-3 are iOS 11 / 11.2 / 12, i.e. macOS 10.13,
// 10.13.2 and 10.14 (the Core ML 1 and 2 releases).
func MinMacOSForSpec(spec int) (OSVersion, bool) {
	switch spec {
	case 1:
		return OSVersion{10, 13, 0}, true
	case 2:
		return OSVersion{10, 13, 2}, true
	case 3:
		return OSVersion{10, 14, 0}, true
	case 4:
		return OSVersion{10, 15, 0}, true
	case 5:
		return OSVersion{11, 0, 0}, true
	case 6:
		return OSVersion{12, 0, 0}, true
	case 7:
		return OSVersion{13, 0, 0}, true
	case 8:
		return OSVersion{14, 0, 0}, true
	case 9:
		return OSVersion{15, 0, 0}, true
	case 10:
		return OSVersion{26, 0, 0}, true
	}
	return OSVersion{}, false
}

// ModelRequirement is the minimum macOS a model needs, as far as its files say.
type ModelRequirement struct {
	// MinMacOS is the oldest macOS that can load the model.
	MinMacOS OSVersion
	// Spec is the model's specification version (0 if unknown).
	Spec int
	// Source says where MinMacOS comes from, e.g. "specification version 9".
	Source string
}

// ReadModelRequirement reads the minimum macOS of a model without Core ML, so that it works
// where Core ML cannot load the model (that is the point). ok is false when the files do not
// say (an .mlmodel file, or a compiled model without metadata.json); err reports files that
// exist but cannot be read.
//
//   - .mlpackage: the root model's specificationVersion (Model.proto field 1), mapped with
//     MinMacOSForSpec. Core ML refuses specification versions newer than it implements.
//   - .mlmodelc: metadata.json, written by coremlcompiler: its "availability" object's
//     "macOS" entry if present, else its "specificationVersion".
func ReadModelRequirement(modelPath string) (req ModelRequirement, ok bool, err error) {
	clean := strings.TrimRight(modelPath, `/\`)
	switch strings.ToLower(filepath.Ext(clean)) {
	case ".mlpackage":
		b, err := modelspec.PackageRootModel(clean)
		if err != nil {
			return ModelRequirement{}, false, err
		}
		spec, err := modelspec.SpecVersion(b)
		if err != nil {
			return ModelRequirement{}, false, err
		}
		req, ok, err := specRequirement(spec)
		if ok {
			applyMinimumOS(&req, modelspec.UserDefined(b))
		}
		return req, ok, err
	case ".mlmodelc":
		b, err := os.ReadFile(filepath.Join(clean, "metadata.json"))
		if errors.Is(err, fs.ErrNotExist) {
			return ModelRequirement{}, false, nil
		}
		if err != nil {
			return ModelRequirement{}, false, err
		}
		return compiledRequirement(b)
	}
	return ModelRequirement{}, false, nil
}

// MinimumOSKey is the user-defined metadata key under which the converter
// (python/minilm_convert/metadata.py, KEY_MINIMUM_OS) records the oldest OS a package loads
// on and why, as JSON: {"macOS": "14.0", "iOS": "17.0", "specification_version": 8,
// "reasons": [...]}.
const MinimumOSKey = "minilm.minimum_os"

// applyMinimumOS refines req with the converter's metadata: a later macOS than the
// specification version needs, and the reasons, which name what needs that OS.
func applyMinimumOS(req *ModelRequirement, userDefined map[string]string) {
	raw, ok := userDefined[MinimumOSKey]
	if !ok {
		return
	}
	var m struct {
		MacOS   string   `json:"macOS"`
		Reasons []string `json:"reasons"`
	}
	if json.Unmarshal([]byte(raw), &m) != nil {
		return
	}
	if v, err := parseOSVersion(m.MacOS); err == nil && !req.MinMacOS.AtLeast(v) {
		req.MinMacOS = v
		req.Source = MinimumOSKey + " metadata"
	}
	if len(m.Reasons) > 0 {
		req.Source += ": " + strings.Join(m.Reasons, "; ")
	}
}

func specRequirement(spec int) (ModelRequirement, bool, error) {
	v, ok := MinMacOSForSpec(spec)
	if !ok {
		return ModelRequirement{}, false, fmt.Errorf("unknown Core ML specification version %d", spec)
	}
	return ModelRequirement{MinMacOS: v, Spec: spec, Source: fmt.Sprintf("model specification version %d", spec)}, true, nil
}

// compiledRequirement reads a compiled model's metadata.json: a JSON array holding one object
// per model, with "specificationVersion" (a number) and "availability" ({"macOS": "15.0", ...}).
func compiledRequirement(b []byte) (ModelRequirement, bool, error) {
	var entries []struct {
		SpecificationVersion json.Number       `json:"specificationVersion"`
		Availability         map[string]string `json:"availability"`
		UserDefined          map[string]string `json:"userDefinedMetadata"`
	}
	if err := json.Unmarshal(b, &entries); err != nil {
		return ModelRequirement{}, false, fmt.Errorf("metadata.json: %w", err)
	}
	if len(entries) == 0 {
		return ModelRequirement{}, false, nil
	}
	e := entries[0]
	spec := 0
	if e.SpecificationVersion != "" {
		n, err := strconv.Atoi(string(e.SpecificationVersion))
		if err != nil {
			return ModelRequirement{}, false, fmt.Errorf("metadata.json: specificationVersion %q: %w", e.SpecificationVersion, err)
		}
		spec = n
	}
	if s, ok := e.Availability["macOS"]; ok {
		v, err := parseOSVersion(s)
		if err != nil {
			return ModelRequirement{}, false, fmt.Errorf("metadata.json: availability.macOS: %w", err)
		}
		src := "metadata.json availability"
		if spec != 0 {
			src = fmt.Sprintf("model specification version %d", spec)
		}
		req := ModelRequirement{MinMacOS: v, Spec: spec, Source: src}
		applyMinimumOS(&req, e.UserDefined)
		return req, true, nil
	}
	if spec == 0 {
		return ModelRequirement{}, false, nil
	}
	req, ok, err := specRequirement(spec)
	if ok {
		applyMinimumOS(&req, e.UserDefined)
	}
	return req, ok, err
}

// checkModelOS returns an *UnavailableError if running is older than what modelPath needs,
// and nil if it is new enough or the model's files do not say. Unreadable model files are
// left to Core ML, which reports them when loading.
func checkModelOS(modelPath string, running OSVersion) error {
	req, ok, err := ReadModelRequirement(modelPath)
	if err != nil || !ok {
		return nil
	}
	if running.AtLeast(req.MinMacOS) {
		return nil
	}
	return &UnavailableError{Reason: fmt.Sprintf("requires macOS %v (%s), this is macOS %v", req.MinMacOS, req.Source, running)}
}
