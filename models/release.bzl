"""Which Core ML variants a release ships: only those that pass the quality gate.

The gate (//models:minilm_mlpackage*_gate, go/cmd/mlgate) runs every variant; README.md's
variant table gives each verdict and why the others are left out.
"""

RELEASED_VARIANTS = [
    "default",
    "w8_per_channel",
]
