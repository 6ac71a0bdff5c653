package coreml

import (
	"fmt"
	"sort"
	"strings"
)

// Interface says which inputs a converted model takes (see inputs.go).
type Interface int

const (
	// IDsAndMask is the two-input model: input_ids and attention_mask, both int32 (N, L).
	IDsAndMask Interface = iota + 1
	// IDsOnly is the single-input model: input_ids alone, encoded with SingleInputIDs; the
	// program derives the mask.
	IDsOnly
)

// String implements fmt.Stringer.
func (i Interface) String() string {
	switch i {
	case IDsAndMask:
		return InputIDsName + "+" + AttentionMaskName
	case IDsOnly:
		return InputIDsName
	}
	return fmt.Sprintf("interface(%d)", int(i))
}

// InterfaceOf tells the interface of a model from the names of its inputs: input_ids and
// attention_mask, or input_ids alone. Any other input set is an error naming the inputs.
func InterfaceOf(inputs []string) (Interface, error) {
	has := map[string]bool{}
	for _, n := range inputs {
		has[n] = true
	}
	switch {
	case len(has) == 2 && has[InputIDsName] && has[AttentionMaskName]:
		return IDsAndMask, nil
	case len(has) == 1 && has[InputIDsName]:
		return IDsOnly, nil
	}
	names := append([]string(nil), inputs...)
	sort.Strings(names)
	return 0, fmt.Errorf("coreml: model inputs [%s]: want %s and %s, or %s alone",
		strings.Join(names, ", "), InputIDsName, AttentionMaskName, InputIDsName)
}

// Names lists the interface's input names in a fixed order.
func (i Interface) Names() []string {
	if i == IDsOnly {
		return []string{InputIDsName}
	}
	return []string{InputIDsName, AttentionMaskName}
}
