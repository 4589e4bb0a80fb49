import hashlib
import os

import pytest

from gensandbox.config import WeightsPackage
from gensandbox.errors import ConfigError, MissingDependencyError
from gensandbox.providers.weights import concatenate_verified, ensure_weights


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_slices_are_joined_in_order_and_verified(tmp_path):
    parts = []
    for index, chunk in enumerate([b"GGUF", b"-middle-", b"end"]):
        part = tmp_path / f"part{index}"
        part.write_bytes(chunk)
        parts.append(part)
    target = tmp_path / "model.gguf"
    concatenate_verified(parts, target, sha(b"GGUF-middle-end"))
    assert target.read_bytes() == b"GGUF-middle-end"


def test_hash_mismatch_names_the_file_and_leaves_nothing_behind(tmp_path):
    part = tmp_path / "part0"
    part.write_bytes(b"corrupt")
    target = tmp_path / "model.gguf"
    with pytest.raises(ConfigError, match="model.gguf has sha256 .* expected 0{64}"):
        concatenate_verified([part], target, "0" * 64)
    assert not target.exists()
    assert not (tmp_path / "model.gguf.partial").exists()


def test_missing_weight_package_says_how_to_install(tmp_path):
    package = WeightsPackage(file="x.gguf", sha256="0" * 64, slices=["no_such_weights_package:data/a.bin"])
    with pytest.raises(MissingDependencyError, match=r"pip install 'gensandbox\[local\]'"):
        ensure_weights(package, tmp_path)


def test_a_verified_file_is_reused_and_a_changed_one_is_rejected(tmp_path):
    data = b"pretend weights"
    package = WeightsPackage(file="m.gguf", sha256=sha(data))
    target = tmp_path / "m.gguf"
    target.write_bytes(data)  # placed by hand: checked once, then trusted by size and mtime
    assert ensure_weights(package, tmp_path) == target
    assert (tmp_path / "m.gguf.verified.json").exists()
    assert ensure_weights(package, tmp_path) == target
    target.write_bytes(b"tampered weights!")
    os.utime(target, ns=(1, 1))
    with pytest.raises(ConfigError, match="delete the file and run again"):
        ensure_weights(package, tmp_path)
