#!/usr/bin/env python3
"""//models:variants_agreement_test: the places derived from models/variants.bzl agree with it.

Starlark passes what it derived (the variants coreml_variants builds, the gate's expected
verdicts, the release list, the calibrated variants); the converter side (presets, the
compression each performs, calibration) is checked by minilm_convert.variants.check_agreement.
Exit 0 when everything agrees, 1 with one line per disagreement.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from minilm_convert import variants  # noqa: E402


def _list(s):
    return [x for x in s.split(",") if x]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bazel-variants", type=_list, required=True)
    p.add_argument("--gate-expect", type=lambda s: dict(kv.split("=", 1) for kv in _list(s)), required=True)
    p.add_argument("--released", type=_list, required=True)
    p.add_argument("--calibrated", type=_list, required=True)
    a = p.parse_args(argv)
    problems = variants.check_agreement(bazel_variants=a.bazel_variants, gate_expect=a.gate_expect,
                                        released=a.released, calibrated=a.calibrated)
    for line in problems:
        print("DISAGREES:", line)
    if problems:
        return 1
    print(f"{len(a.bazel_variants)} variants: presets, compression, Bazel targets, gate verdicts, release list "
          "and calibration agree with models/variants.bzl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
