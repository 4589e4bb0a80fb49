"""The signer signs with libsodium (speed) but keys stay cryptography's: the signatures must be OpenSSL's bytes."""

import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gensandbox.ledger.events import Head
from gensandbox.ledger.signing import Signer, b64, check_receipt, checkpoint_signature_ok, signature_ok


def test_signatures_are_the_bytes_openssl_gives_and_verify_with_the_public_key():
    private = Ed25519PrivateKey.generate()
    signer = Signer(private)
    for size in (0, 1, 63, 64, 300, 5000):
        message = os.urandom(size)
        assert signer.sign(message) == b64(private.sign(message))
        assert signature_ok(private.public_key(), signer.sign(message), message)
    assert not signature_ok(private.public_key(), signer.sign(b"one"), b"two")


def test_receipts_and_checkpoints_check_against_the_public_key(tmp_path):
    signer = Signer.load_or_create(tmp_path / "keys" / "ledger.pem")
    reloaded = Signer.load_or_create(tmp_path / "keys" / "ledger.pem")
    assert reloaded.key_id == signer.key_id and reloaded.sign(b"x") == signer.sign(b"x")
    receipt = signer.receipt("e" * 64, "m", "a" * 64, None, "2026-12-05T00:00:00Z")
    assert check_receipt(receipt, signer.public_key).ok
    assert not check_receipt(receipt, Ed25519PrivateKey.generate().public_key()).ok
    assert checkpoint_signature_ok(signer.checkpoint(Head(3, "h" * 64), "2026-12-05T00:00:00Z"), signer.public_key)
