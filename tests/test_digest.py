"""One digest scheme: SHA-256 cut to 12 hex digits, for data versions, weights and run ids."""

from __future__ import annotations

import hashlib
import json

from matcher.digest import DIGEST_LENGTH, digest_bytes, digest_file, digest_inputs, digest_json


def test_digests_are_sha256_cut_to_twelve_digits(tmp_path):
    data = "常熟,柯桥\n".encode() * 100_000  # more than one read block
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()[:12]
    assert DIGEST_LENGTH == 12
    assert digest_bytes(data) == digest_file(path) == expected
    assert digest_bytes(iter([data[:7], data[7:]])) == expected


def test_json_digest_is_the_engine_weights_digest():
    weights = {"supply": 0.4, "policy": 0.2, "距离": 1}
    # what matcher.docking.engine.weights_hash computes inline today
    assert digest_json(weights) == hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:12]
    assert digest_json(dict(reversed(list(weights.items())))) == digest_json(weights)


def test_run_id_follows_inputs_and_arguments(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes(b"left_id,right_id\n")
    b.write_bytes(b"x\n")
    first = digest_inputs([a, None, b], ["k=1", "cap=2"])
    assert first == digest_bytes(a.read_bytes() + b.read_bytes() + b"k=1\0cap=2")
    assert digest_inputs([a, b], ["k=1", "cap=2"]) == first  # a missing optional file is skipped
    assert digest_inputs([a, b], ["k=2", "cap=2"]) != first
