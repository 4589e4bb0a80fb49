"""Ed25519 signing: the ledger's key, signed checkpoints of the chain head, and usage receipts.

The private key is created on first use, readable by its owner only (0600, in a 0700 folder). Its public half
is what a regulator or a customer needs to check checkpoints and receipts; its id is the first 16 hex digits
of the sha256 of the raw public key, so a receipt names the key that signed it.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

from gensandbox.canonical import canonical, sha256_hex
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.ledger.events import CHECKPOINT, Head

RECEIPT_PREFIX = "gsr1"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw)[:16]


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise NotFoundError(f"public key file {path} not found; `gensandbox ledger public-key > FILE` "
                            "writes the gateway's") from None
    except ValueError:
        raise ConfigError(f"{path} is not a PEM public key; `gensandbox ledger public-key` writes one") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} holds a {type(key).__name__}, not an Ed25519 public key")
    return key


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey):
        self._private = private_key
        # Signing runs once per answer: libsodium signs in ~20 µs where OpenSSL through cryptography takes ~33 µs
        # here. Ed25519 signatures are deterministic, so both give the same bytes; cryptography keeps the key files.
        _, self._sodium_key = crypto_sign_seed_keypair(private_key.private_bytes_raw())
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        if path.exists():
            return cls(_read_private_key(path))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        # O_EXCL: two processes starting at once must not both write a key; the loser reads the winner's.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls(_read_private_key(path))
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        return cls(private)

    def sign(self, data: bytes) -> str:
        return b64(crypto_sign(data, self._sodium_key)[:64])  # libsodium returns the signature, then the message

    def checkpoint(self, head: Head, signed_at: str, *, closes_export: bool = False) -> dict:
        """The content of a checkpoint record: a signature over the chain head it follows. An export's closing
        checkpoint also signs that it closes an export of exactly its own number of records."""
        body = {"kind": CHECKPOINT, "time": signed_at, "signed_seq": head.seq, "signed_hash": head.hash,
                "key_id": self.key_id}
        if closes_export:
            body["closes_export"] = head.seq + 1
        return {**body, "signature": self.sign(canonical(body))}

    def receipt(self, event_hash: str, model: str, response_sha256: str, body_sha256: str | None,
                issued_at: str) -> str:
        payload = {"v": 1, "event": event_hash, "model": model, "response_sha256": response_sha256,
                   "key_id": self.key_id, "time": issued_at}
        if body_sha256:
            payload["body_sha256"] = body_sha256
        encoded = canonical(payload)
        return f"{RECEIPT_PREFIX}.{b64(encoded)}.{self.sign(encoded)}"


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"the ledger signing key {path} is readable by others; run `chmod 600 {path}`")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


def checkpoint_signature_ok(record: dict, public_key: Ed25519PublicKey) -> bool:
    body = {key: record.get(key) for key in ("kind", "time", "signed_seq", "signed_hash", "key_id")}
    if "closes_export" in record:
        body["closes_export"] = record["closes_export"]
    return signature_ok(public_key, record.get("signature", ""), canonical(body))


def signature_ok(public_key: Ed25519PublicKey, signature: str, data: bytes) -> bool:
    try:
        public_key.verify(unb64(signature), data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class ReceiptCheck:
    ok: bool
    reason: str
    payload: dict


def check_receipt(receipt: str, public_key: Ed25519PublicKey, body: bytes | None = None) -> ReceiptCheck:
    """Is `receipt` signed by `public_key`, and (given the response body) is that body the one it covers?"""
    parts = receipt.strip().split(".")
    if len(parts) != 3 or parts[0] != RECEIPT_PREFIX:
        return ReceiptCheck(False, f"not a GenSandbox receipt (expected `{RECEIPT_PREFIX}.<payload>.<signature>`)",
                            {})
    try:
        encoded = unb64(parts[1])
        payload = orjson.loads(encoded)
    except (ValueError, orjson.JSONDecodeError):
        return ReceiptCheck(False, "the receipt's payload is not readable base64url JSON", {})
    if payload.get("key_id") != key_id(public_key):
        return ReceiptCheck(False, f"signed by key {payload.get('key_id')}, not by the given key "
                                   f"{key_id(public_key)}", payload)
    if not signature_ok(public_key, parts[2], encoded):
        return ReceiptCheck(False, "the signature does not match the receipt: it was altered or forged", payload)
    if body is not None:
        problem = _body_problem(payload, body)
        if problem:
            return ReceiptCheck(False, problem, payload)
    return ReceiptCheck(True, "signature valid" + ("; the body is unchanged" if body is not None else ""), payload)


def _body_problem(payload: dict, body: bytes) -> str | None:
    """A plain response's receipt covers the exact body bytes; a streamed one covers the answer text."""
    if payload.get("body_sha256"):
        if sha256_hex(body) != payload["body_sha256"]:
            return "the response body differs from the one this receipt was issued for"
        return None
    if sha256_hex(body) != payload.get("response_sha256"):
        return "the answer text differs from the one this receipt was issued for"
    return None
