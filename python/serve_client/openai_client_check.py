#!/usr/bin/env python3
"""Drives `minilm serve` with the official OpenAI Python client and with plain HTTP, and checks
every vector against the library's own output (`minilm embed` on the same texts).

usage: openai_client_check.py MINILM_BINARY MODEL_DIR
Starts the server on a free loopback port with an API key, runs the checks, sends SIGTERM and
expects exit 0. Exits non-zero, saying why, on any mismatch.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TEXTS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "naïve café 🙂 — unicode survives",
    "",
    "word " * 400,  # truncated at 256 tokens, as sentence-transformers does
]
KEY = "test-key-0123456789"


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def library_vectors(minilm: str, model_dir: str) -> list[list[float]]:
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.jsonl")
        with open(src, "w") as f:
            for t in TEXTS:
                f.write(json.dumps({"text": t}) + "\n")
        out = subprocess.run([minilm, "embed", src, "--model-dir", model_dir, "--backend", "cpu"],
                             check=True, capture_output=True, text=True).stdout
    return [json.loads(line)["embedding"] for line in out.splitlines()]


def start_server(minilm: str, model_dir: str, log_path: str):
    env = dict(os.environ, MINILM_API_KEY=KEY)
    log = open(log_path, "w")
    proc = subprocess.Popen([minilm, "serve", "--addr", "127.0.0.1:0", "--model-dir", model_dir, "--backend", "cpu"],
                            stderr=log, env=env)
    url, deadline = None, time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with {proc.returncode}: {open(log_path).read()}")
        for line in open(log_path):
            rec = json.loads(line)
            if rec.get("msg") == "listening":
                url = rec["url"]
            if rec.get("msg") == "ready" and url:
                return proc, url
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("server not ready within 120 s")


def check_equal(name: str, got: list[list[float]], want: list[list[float]]) -> None:
    if len(got) != len(want):
        raise SystemExit(f"{name}: {len(got)} vectors, want {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        if len(g) != 384 or any(f32(a) != f32(b) for a, b in zip(g, w)):
            raise SystemExit(f"{name}: vector {i} differs from the library's")
    print(f"ok: {name}: {len(got)} vectors equal the library's, bit for bit")


def main() -> int:
    minilm, model_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    import openai

    want = library_vectors(minilm, model_dir)
    with tempfile.TemporaryDirectory() as d:
        log_path = os.path.join(d, "serve.log")
        proc, url = start_server(minilm, model_dir, log_path)
        try:
            client = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
            for fmt in ("float", "base64"):
                resp = client.embeddings.create(model="all-MiniLM-L6-v2", input=TEXTS, encoding_format=fmt)
                got = [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]
                if fmt == "base64" and isinstance(got[0], str):  # older clients leave it encoded
                    got = [list(struct.unpack(f"<{len(base64.b64decode(g)) // 4}f", base64.b64decode(g))) for g in got]
                check_equal(f"openai client, encoding_format={fmt}", got, want)
                if resp.usage.prompt_tokens <= len(TEXTS) or resp.usage.total_tokens != resp.usage.prompt_tokens:
                    raise SystemExit(f"usage {resp.usage}")
            # The client's own default (it asks for base64 and decodes it).
            resp = client.embeddings.create(model="all-MiniLM-L6-v2", input=TEXTS[0])
            check_equal("openai client, default encoding, one string", [resp.data[0].embedding], want[:1])

            try:
                client.embeddings.create(model="all-MiniLM-L6-v2", input="x", dimensions=128)
                raise SystemExit("dimensions=128 was accepted")
            except openai.BadRequestError as e:
                print(f"ok: dimensions=128 refused: {e.status_code}")
            try:
                openai.OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0).embeddings.create(model="m", input="x")
                raise SystemExit("a wrong API key was accepted")
            except openai.AuthenticationError as e:
                print(f"ok: wrong key refused: {e.status_code}")

            # Plain HTTP, TEI route.
            req = urllib.request.Request(url + "/embed", data=json.dumps({"inputs": TEXTS, "truncate": True}).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": "Bearer " + KEY})
            with urllib.request.urlopen(req, timeout=60) as r:
                check_equal("plain HTTP, POST /embed", json.load(r), want)
            with urllib.request.urlopen(url + "/health", timeout=10) as r:
                assert r.status == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        if code != 0:
            raise SystemExit(f"server exited with {code} after SIGTERM: {open(log_path).read()[-2000:]}")
        if KEY in open(log_path).read():
            raise SystemExit("the API key appears in the server's log")
        print("ok: SIGTERM drained, exit 0; the API key is not in the log")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
