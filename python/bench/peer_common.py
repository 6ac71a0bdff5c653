"""Shared harness of the Python peers of the Go benchmarks (go/bench).

A peer is an engine with ``encode(texts, batch_size) -> float32 array (n, 384)`` producing
unit-length mean-pooled all-MiniLM-L6-v2 embeddings. The Go benchmark writes a job spec (JSON),
runs the peer as a subprocess, and reads the JSON result this harness writes; it computes
every statistic (percentiles, ratios, retrieval scores) itself, so the peers only time calls.

Job modes:
  chunked  for each batch size b: the texts are cut in order into calls of b texts, each call
           is ``encode(call, batch_size=b)`` and timed on its own (the application hands the
           engine b texts at a time).
  bulk     one ``encode(all texts, batch_size=b)`` (ingest); vectors may be written out.
  single   one ``encode([text], batch_size=1)`` per text, each timed; vectors may be written out.

Spec:  {"model_dir": str, "threads": int, "max_seq_length": int,
        "jobs": [{"name": str, "mode": str, "texts_file": str (JSON lines, one string each),
                  "batch_sizes": [int], "warmup_calls": int, "repeat": int,
                  "vectors_out": str (raw little-endian float32, n x dim, input order)}]}
Result: {"engine", "versions", "threads", "load_seconds", "first_vector_seconds",
         "jobs": [{"name", "mode",
         "runs": [{"batch_size", "texts", "seconds", "call_ms": [...], "vmhwm_bytes"}]}],
         "error": null | str}

first_vector_seconds is the cold start: from the moment the Go benchmark started this process
(env BENCH_EXEC_UNIX_NS) to the first embedding, imports and model loading included.
"""

import argparse
import json
import os
import sys
import time
import traceback


def read_vmhwm():
    """Peak resident set size of this process in bytes (Linux), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_vmhwm():
    """Resets the peak RSS to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def limit_threads(n):
    """Caps every native thread pool before numpy/torch/onnxruntime are imported."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_job(engine, job):
    import numpy as np

    texts = read_texts(job["texts_file"])
    mode = job["mode"]
    warmup = int(job.get("warmup_calls", 1))
    repeat = max(1, int(job.get("repeat", 1)))
    out = {"name": job["name"], "mode": mode, "runs": []}
    vectors = None
    if mode == "chunked":
        for b in job["batch_sizes"]:
            calls = [texts[i:i + b] for i in range(0, len(texts), b)]
            for c in calls[:warmup]:
                engine.encode(c, b)
            reset_vmhwm()
            call_ms = []
            start = time.perf_counter()
            for _ in range(repeat):
                for c in calls:
                    t0 = time.perf_counter()
                    engine.encode(c, b)
                    call_ms.append((time.perf_counter() - t0) * 1e3)
            secs = time.perf_counter() - start
            out["runs"].append({"batch_size": b, "texts": len(texts) * repeat, "seconds": secs,
                                "call_ms": call_ms, "vmhwm_bytes": read_vmhwm()})
    elif mode == "bulk":
        b = job["batch_sizes"][0]
        if warmup:
            engine.encode(texts[: min(len(texts), b)], b)
        reset_vmhwm()
        start = time.perf_counter()
        vectors = engine.encode(texts, b)
        secs = time.perf_counter() - start
        out["runs"].append({"batch_size": b, "texts": len(texts), "seconds": secs,
                            "call_ms": [secs * 1e3], "vmhwm_bytes": read_vmhwm()})
    elif mode == "single":
        for t in texts[:warmup]:
            engine.encode([t], 1)
        reset_vmhwm()
        call_ms, rows = [], []
        start = time.perf_counter()
        for t in texts:
            t0 = time.perf_counter()
            rows.append(engine.encode([t], 1)[0])
            call_ms.append((time.perf_counter() - t0) * 1e3)
        secs = time.perf_counter() - start
        vectors = np.stack(rows) if rows else np.zeros((0, 384), np.float32)
        out["runs"].append({"batch_size": 1, "texts": len(texts), "seconds": secs,
                            "call_ms": call_ms, "vmhwm_bytes": read_vmhwm()})
    else:
        raise ValueError(f"unknown mode {mode!r}")
    if job.get("vectors_out") and vectors is not None:
        np.ascontiguousarray(vectors, dtype="<f4").tofile(job["vectors_out"])
    return out


def main(name, make_engine, extra_args=None):
    """Runs a peer: make_engine(spec, args) -> (engine, versions dict).

    name is the engine name in the result, or a function of the parsed arguments returning it
    (one script, several engines: peer_onnxruntime.py's float32 and int8 models).
    """
    p = argparse.ArgumentParser(description="a peer of the Go benchmarks")
    p.add_argument("--spec", required=True, help="job spec JSON written by the Go benchmark")
    p.add_argument("--out", required=True, help="where to write the result JSON")
    if extra_args:
        extra_args(p)
    args = p.parse_args()
    if callable(name):
        name = name(args)
    with open(args.spec) as f:
        spec = json.load(f)
    limit_threads(int(spec["threads"]))
    result = {"engine": name, "versions": {"python": sys.version.split()[0]},
              "threads": int(spec["threads"]), "jobs": [], "error": None}
    code = 0
    try:
        t0 = time.perf_counter()
        engine, versions = make_engine(spec, args)
        result["load_seconds"] = time.perf_counter() - t0
        result["versions"].update(versions)
        engine.encode(["cold start"], 1)
        exec_ns = os.environ.get("BENCH_EXEC_UNIX_NS")
        if exec_ns:
            result["first_vector_seconds"] = (time.time_ns() - int(exec_ns)) / 1e9
        for job in spec["jobs"]:
            result["jobs"].append(run_job(engine, job))
    except Exception as e:  # reported to the Go side, which decides whether it is fatal
        result["error"] = f"{type(e).__name__}: {e}"
        traceback.print_exc()
        code = 1
    with open(args.out, "w") as f:
        json.dump(result, f)
    return code
