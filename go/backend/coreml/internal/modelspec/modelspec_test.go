package modelspec

import (
	"strings"
	"testing"
)

func TestSpecVersionErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated field", []byte{0x12, 0x05, 'a'}, "truncated"},
		{"empty model", nil, "no specificationVersion"},
		{"bad tag", []byte{0x80}, "bad field tag"},
		{"unsupported wire type", []byte{0x0b}, "wire type 3"},
	} {
		_, err := SpecVersion(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if v, err := SpecVersion([]byte{0x08, 0x09}); err != nil || v != 9 {
		t.Errorf("SpecVersion(field 1 = 9) = %d, %v", v, err)
	}
}
