package vocab

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		want              Vocab
	}{
		{name: "ok", in: `{"[UNK]": 0, "a": 1, "##b": 2}`, want: Vocab{"[UNK]": 0, "a": 1, "##b": 2}},
		{name: "empty", in: `{}`, wantErr: "vocab: empty"},
		{name: "null", in: `null`, wantErr: "vocab: empty"},
		{name: "negative", in: `{"a": -1}`, wantErr: `token "a" has negative id -1`},
		{name: "shared", in: `{"b": 3, "a": 3}`, wantErr: `tokens "a" and "b" share id 3`},
		{name: "not an object", in: `[1, 2]`, wantErr: "vocab: json: cannot unmarshal array"},
		{name: "id out of int32", in: `{"a": 4294967296}`, wantErr: "vocab: json: cannot unmarshal number 4294967296"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Vocab
			err := json.Unmarshal([]byte(tt.in), &v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if v != nil {
					t.Errorf("vocab set to %v on error", v)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(v) != len(tt.want) {
				t.Fatalf("got %v, want %v", v, tt.want)
			}
			for tok, id := range tt.want {
				if v[tok] != id {
					t.Errorf("%q: got %d, want %d", tok, v[tok], id)
				}
			}
		})
	}
}
