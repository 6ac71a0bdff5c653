import json
import os

from minilm_convert import determinism as D
from conftest import SMALL_GRID


def test_two_conversions_are_byte_identical(converted, model_dir, tmp_path):
    """Second conversion in a separate process, another output path and another PYTHONHASHSEED."""
    import subprocess
    import sys

    from conftest import PY_ROOT

    out_b = tmp_path / "elsewhere" / "renamed.mlpackage"
    os.makedirs(out_b.parent)
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, str(PY_ROOT / "convert_model.py"), "--model-dir", model_dir,
                    "--output", str(out_b), *SMALL_GRID], check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    a, b = D.tree_digest(converted["path"]), D.tree_digest(out_b)
    assert sorted(a) == sorted(b) == ["Data/com.apple.CoreML/model.mlmodel",
                                      "Data/com.apple.CoreML/weights/weight.bin", "Manifest.json"]
    assert a == b


def test_manifest_identifiers_are_digest_derived(converted):
    m = json.load(open(os.path.join(converted["path"], "Manifest.json")))
    for ident, e in m["itemInfoEntries"].items():
        assert ident == D._stable_uuid(e["path"], e["name"], e["author"])
    assert m["rootModelIdentifier"] in m["itemInfoEntries"]


def test_normalize_is_idempotent(converted, tmp_path):
    import shutil

    c = tmp_path / "copy.mlpackage"
    shutil.copytree(converted["path"], c)
    D.normalize_package(c)
    assert D.tree_digest(c) == D.tree_digest(converted["path"])
