#!/usr/bin/env python3
"""Convert all-MiniLM-L6-v2 to a Core ML mlprogram. Run with --help for the flags."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Only local model directories are read: never reach the Hub, and keep huggingface_hub's cache
# bookkeeping (it writes $HF_HOME/hub/version.txt on import) out of $HOME, e.g. in a Bazel sandbox.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if "HF_HOME" not in os.environ:
    import tempfile

    os.environ["HF_HOME"] = os.path.join(tempfile.gettempdir(), "minilm-convert-hf-home")

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
