"""Which public keys `ledger verify` trusts: the ones given; else this home's own ledger key and those of ledgers
imported into this home (an import keeps its exporter's key, so verify and export work in the new home)."""

from __future__ import annotations

from pathlib import Path

from gensandbox.config import Config
from gensandbox.errors import ConfigError
from gensandbox.ledger.signing import Signer, key_id, load_public_key, public_pem

__all__ = ["TRUSTED_KEYS_DIR", "remember_key", "trusted_keys"]

TRUSTED_KEYS_DIR = "ledger-keys"  # public keys of ledgers imported into this home, trusted by verify


def trusted_keys(paths: list[Path], config: Config) -> list:
    """The given keys; else this machine's own and those of ledgers imported here (a verifier elsewhere passes
    the operator's)."""
    if paths:
        return [load_public_key(path) for path in paths]
    keys = [load_public_key(path) for path in sorted((config.home / TRUSTED_KEYS_DIR).glob("*.pem"))]
    if config.signing_key_path.exists():
        keys.insert(0, Signer.load_or_create(config.signing_key_path).public_key)
    if not keys:
        raise ConfigError("no --public-key given and this machine has no ledger key; pass the public key of the "
                          "gateway that wrote the ledger")
    return keys


def remember_key(public_key, config: Config) -> None:
    folder = config.home / TRUSTED_KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{key_id(public_key)}.pem").write_bytes(public_pem(public_key))
