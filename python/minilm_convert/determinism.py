"""Seeding and byte-reproducible .mlpackage trees.

coremltools' ModelPackage assigns every Manifest.json item a random uuid_generate() identifier on
each save, and the converter records a conversion date in the user metadata (removed in
metadata.py). normalize_package() replaces the identifiers with UUIDs derived from a digest of the
item's (path, name, author), rewrites the manifest with sorted keys, re-serializes model.mlmodel with
deterministic (key-sorted) protobuf map order -- otherwise its bytes depend on PYTHONHASHSEED --, and
fixes file modes and mtimes,
so two conversions of the same inputs give byte-identical trees (tested in tests/test_determinism.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import uuid
from pathlib import Path
from typing import Dict

FIXED_MTIME = 315532800  # 1980-01-01T00:00:00Z, the earliest time zip can store


def seed_everything(seed: int) -> None:
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
    except ImportError:  # pragma: no cover
        pass


def _stable_uuid(*parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def normalize_package(package: str | os.PathLike) -> None:
    pkg = Path(package)
    manifest_path = pkg / "Manifest.json"
    manifest = json.loads(manifest_path.read_text())
    entries = manifest.get("itemInfoEntries", {})
    mapping = {old: _stable_uuid(e.get("path", ""), e.get("name", ""), e.get("author", "")) for old, e in entries.items()}
    if len(set(mapping.values())) != len(mapping):
        raise RuntimeError(f"{manifest_path}: two manifest items have the same path/name/author")
    manifest["itemInfoEntries"] = {mapping[k]: v for k, v in entries.items()}
    if "rootModelIdentifier" in manifest:
        manifest["rootModelIdentifier"] = mapping[manifest["rootModelIdentifier"]]
    manifest_path.write_text(json.dumps(manifest, indent=4, sort_keys=True) + "\n")
    # The spec's protobuf maps (function/attribute/input maps) are serialized in an order that
    # depends on Python's per-process string hashing (PYTHONHASHSEED): re-serialize canonically.
    for entry in manifest["itemInfoEntries"].values():
        if entry.get("name") == "model.mlmodel":
            _canonical_spec(pkg / "Data" / entry["path"])
    for root, dirs, files in os.walk(pkg):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            p = os.path.join(root, f)
            os.chmod(p, 0o644)
            os.utime(p, (FIXED_MTIME, FIXED_MTIME))
    for root, dirs, _ in os.walk(pkg, topdown=False):
        for d in dirs:
            os.utime(os.path.join(root, d), (FIXED_MTIME, FIXED_MTIME))
    os.chmod(pkg, 0o755)
    os.utime(pkg, (FIXED_MTIME, FIXED_MTIME))


def _canonical_spec(path: Path) -> None:
    from coremltools.proto import Model_pb2

    spec = Model_pb2.Model()
    spec.ParseFromString(path.read_bytes())
    path.write_bytes(spec.SerializeToString(deterministic=True))


def tree_digest(package: str | os.PathLike) -> Dict[str, str]:
    """{relative path: sha256} of every file in the tree."""
    pkg = Path(package)
    out = {}
    for p in sorted(pkg.rglob("*")):
        if p.is_file():
            out[p.relative_to(pkg).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
