//go:build !darwin || !cgo

package coreml

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnavailableOffDarwin(t *testing.T) {
	require.False(t, Available())
	b, err := New("testdata/none.mlmodelc")
	require.Nil(t, b)
	require.ErrorIs(t, err, ErrUnavailable)
}
