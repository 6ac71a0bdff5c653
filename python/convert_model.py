#!/usr/bin/env python3
"""Convert all-MiniLM-L6-v2 to a Core ML mlprogram. Run with --help for the flags."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from minilm_convert.options import OptionsError, parse  # noqa: E402


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse(argv)
    except OptionsError as e:
        print(f"convert_model.py: error: {e}", file=sys.stderr)
        return 2
    from minilm_convert.convert import run

    report = run(opts)
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
