package xcheck

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/backend/coreml/internal/modelspec"
	"github.com/minilm-coreml/minilm/go/mlpackage"
)

// TestAgainstMlpackage reads the specification version and the user-defined metadata of
// packages coremltools 9.0 wrote (go/mlpackage/testdata: tiny.mlpackage and
// tiny_single.mlpackage for iOS 18, tiny_ios17.mlpackage for iOS 17) with modelspec's field scan, and checks them against
// package mlpackage's full protobuf decoder. It lives in this test-only package so that
// importers of the Core ML backend never resolve the protobuf module for it.
func TestAgainstMlpackage(t *testing.T) {
	for name, wantSpec := range map[string]int{"tiny.mlpackage": 9, "tiny_single.mlpackage": 9, "tiny_ios17.mlpackage": 8} {
		pkg := filepath.Join("..", "..", "..", "..", "..", "mlpackage", "testdata", name)
		b, err := modelspec.PackageRootModel(pkg)
		require.NoError(t, err, name)
		got, err := modelspec.SpecVersion(b)
		require.NoError(t, err)
		p, err := mlpackage.Open(pkg)
		require.NoError(t, err)
		require.Equal(t, int(p.Model.SpecificationVersion), got, name)
		require.Equal(t, wantSpec, got, name)
		require.Equal(t, p.Model.Description.Metadata.UserDefined, modelspec.UserDefined(b), name)
	}
}
