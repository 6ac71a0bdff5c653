"""Which Core ML variants a release ships: only those that pass the quality gate.

The gate (//models:minilm_mlpackage*_gate, go/cmd/mlgate) runs every variant and its test
checks the verdict recorded here, so a change in quality cannot go unnoticed either way.
README.md's variant table gives each result and why the others are left out.
"""

GATE_EXPECT = {
    "default": "pass",
    "w8_per_channel": "pass",
    "int4_per_block32": "pass",
    "palettize_uniform4_group8": "fail",
    "palettize_kmeans4_group8": "pass",
    "w8a8": "fail",
}

RELEASED_VARIANTS = [v for v, verdict in GATE_EXPECT.items() if verdict == "pass"]
