//go:build !darwin || !cgo

package coreml

import (
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnavailableOffDarwin(t *testing.T) {
	require.False(t, Available())
	b, err := New("testdata/none.mlmodelc")
	require.Nil(t, b)
	require.ErrorIs(t, err, ErrUnavailable)
	var ue *UnavailableError
	require.True(t, errors.As(err, &ue))
	if runtime.GOOS != "darwin" {
		require.Equal(t, "Core ML runs only on macOS; this is "+runtime.GOOS, ue.Reason)
	} else {
		require.Contains(t, ue.Reason, "no cgo")
	}
}

func TestComputePlanUnavailableOffDarwin(t *testing.T) {
	rep, err := ComputePlan("m.mlpackage", CPUAndNeuralEngine)
	require.Nil(t, rep)
	var ue *UnavailableError
	require.True(t, errors.As(err, &ue), "%v", err)
	require.ErrorIs(t, err, ErrUnavailable)
}
