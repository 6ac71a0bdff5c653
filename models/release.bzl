"""Which Core ML variants a release ships: only those that pass the quality gate.

Derived from the one declaration, models/variants.bzl (its "release" field): the gate
(//models:minilm_mlpackage*_gate, go/cmd/mlgate) runs every variant and its test checks the
verdict derived here, so a change in quality cannot go unnoticed either way.
README.md's variant table gives each result.
"""

load("//models:variants.bzl", _GATE_EXPECT = "GATE_EXPECT", _RELEASED_VARIANTS = "RELEASED_VARIANTS")

GATE_EXPECT = _GATE_EXPECT

RELEASED_VARIANTS = _RELEASED_VARIANTS
