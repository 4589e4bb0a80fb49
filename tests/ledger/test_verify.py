"""Tamper evidence, as a property: whatever is flipped, deleted, duplicated or reordered in an export,
verification fails and names the first record that is wrong."""

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from gensandbox.ledger.events import CallFacts, Head, call_event, plan_append
from gensandbox.ledger.signing import Signer
from gensandbox.ledger.verify import verify_lines

PRIVACY = ("hashes", "full")


def facts(i: int) -> CallFacts:
    return CallFacts(source="gateway", provider="openai", requested_model="route:cheap", model=f"model-{i % 3}",
                     started_at=f"2026-11-29T00:00:{i:02d}Z", latency_s=0.01 * i, input_tokens=i, output_tokens=2 * i,
                     cost_usd=i / 1e6, price_table="price table 2026-11", session="s" if i % 2 else None,
                     prompt=[{"role": "user", "content": f"질문 {i} \u001f"}], response_text=f"answer {i}")


@cache
def signer() -> Signer:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Signer(Ed25519PrivateKey.generate())


@cache
def export() -> bytes:
    """30 calls with a checkpoint after every 7, ending signed: the file `ledger export` writes."""
    head, kind, lines = Head(), None, []
    for start in range(0, 30, 7):
        contents = [call_event(facts(i), PRIVACY[i % 2]) for i in range(start, min(start + 7, 30))]
        records = plan_append(contents, head, kind, lambda h: signer().checkpoint(h, "2026-11-29T01:00:00Z"))
        lines += [r.line for r in records]
        head, kind = Head(records[-1].seq, records[-1].hash), records[-1].kind
    return b"".join(line + b"\n" for line in lines)


def verify(data: bytes):
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the file's final newline ends the last record; it does not start another
    return verify_lines(lines, signer().public_key, require_signed_end=True)


def line_count() -> int:
    return export().count(b"\n")


def test_the_untouched_export_verifies():
    verdict = verify(export())
    assert verdict.ok and verdict.records == line_count() and verdict.checkpoints == 5


@settings(max_examples=400, deadline=None)
@given(position=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
def test_any_flipped_byte_is_caught_at_its_record(position, mask):
    data = bytearray(export())
    position %= len(data)
    data[position] ^= mask
    verdict = verify(bytes(data))
    assert not verdict.ok
    assert verdict.first_bad == export()[:position].count(b"\n") + 1


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_deleted_duplicated_or_reordered_record_is_caught(data):
    lines = export().splitlines(keepends=True)
    action = data.draw(st.sampled_from(["delete", "duplicate", "swap"]))
    i = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    if action == "delete":
        del lines[i]
        expected = i + 1  # the record that now sits where the deleted one was (or the end, if it was last)
    elif action == "duplicate":
        lines.insert(i + 1, lines[i])
        expected = i + 2
    else:
        j = data.draw(st.integers(min_value=0, max_value=len(lines) - 1).filter(lambda j: j != i))
        lines[i], lines[j] = lines[j], lines[i]
        expected = min(i, j) + 1
    verdict = verify(b"".join(lines))
    assert not verdict.ok
    assert verdict.first_bad == expected, verdict.reason


def test_a_checkpoint_from_another_key_is_named():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    verdict = verify_lines(export().splitlines(), Ed25519PrivateKey.generate().public_key(),
                           require_signed_end=True)
    assert not verdict.ok and verdict.first_bad == 8 and "not by the given key" in verdict.reason


def test_a_re_signed_rewrite_by_someone_else_fails():
    """Rewriting history means recomputing every hash after the change: possible, but then the checkpoints
    cannot carry the operator's signature."""
    import orjson

    from gensandbox.ledger.events import chain, strip_chain

    contents = [strip_chain(orjson.loads(line)) for line in export().splitlines()]
    contents[3]["gensandbox.cost_usd"] = 0.0  # a cheaper past
    head, rewritten = Head(), []
    for content in contents:
        if content["kind"] == "gensandbox.checkpoint":  # point the old signature at the new head
            content.update(signed_seq=head.seq, signed_hash=head.hash)
        (record,) = chain([content], head)
        head, rewritten = Head(record.seq, record.hash), rewritten + [record.line]
    verdict = verify_lines(rewritten, signer().public_key, require_signed_end=True)
    assert not verdict.ok and verdict.first_bad == 8 and "signature" in verdict.reason
