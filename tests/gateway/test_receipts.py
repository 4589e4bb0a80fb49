"""Usage receipts and ledger events from a live gateway, checked the way a customer or regulator would."""

import json

import openai
import orjson

from gensandbox.cli.app import main
from gensandbox.ledger.signing import check_receipt, load_public_key
from gensandbox.ledger.sqlite import SQLiteLedger
from gensandbox.ledger.verify import verify_lines


def client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key="anything", max_retries=0)


def public_key(gateway, tmp_path):
    path = tmp_path / "gateway.pub"
    assert main(["ledger", "public-key", "-o", str(path)]) == 0
    return path


def ledger_records(gateway) -> list[dict]:
    gateway.records()  # waits for the batch writer
    backend = SQLiteLedger(gateway.home / "ledger.db")
    try:
        return [orjson.loads(line) for line in backend.lines()]
    finally:
        backend.close()


def test_a_receipt_proves_the_body_and_the_model(gateway, tmp_path, capsys):
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": "안녕하세요 receipts"}])
    receipt, body = raw.headers["x-gensandbox-receipt"], raw.http_response.content
    key_path = public_key(gateway, tmp_path)
    check = check_receipt(receipt, load_public_key(key_path), body)
    assert check.ok, check.reason
    assert check.payload["model"] == "echo"

    body_file = tmp_path / "body.json"
    body_file.write_bytes(body)
    assert main(["receipt", "verify", receipt, "--public-key", str(key_path), "--body", str(body_file)]) == 0
    assert "VALID" in capsys.readouterr().out

    body_file.write_bytes(body.replace(b"receipts", b"receiptz"))
    assert main(["receipt", "verify", receipt, "--public-key", str(key_path), "--body", str(body_file)]) == 1
    assert "differs" in capsys.readouterr().err

    prefix, payload, signature = receipt.split(".")
    forged = f"{prefix}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    assert not check_receipt(forged, load_public_key(key_path), body).ok
    tampered_payload = json.loads(__import__("base64").urlsafe_b64decode(payload + "=="))
    tampered_payload["model"] = "gpt-5"
    from gensandbox.ledger.signing import b64

    relabelled = f"{prefix}.{b64(orjson.dumps(tampered_payload, option=orjson.OPT_SORT_KEYS))}.{signature}"
    result = check_receipt(relabelled, load_public_key(key_path), body)
    assert not result.ok and "altered" in result.reason


def test_the_receipt_names_an_event_in_the_chain(gateway, tmp_path):
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="route:safe", messages=[{"role": "user", "content": "fall back please"}],
        extra_headers={"x-gensandbox-session": "agent-7"})
    check = check_receipt(raw.headers["x-gensandbox-receipt"], load_public_key(public_key(gateway, tmp_path)),
                          raw.http_response.content)
    records = ledger_records(gateway)
    calls = [r for r in records if r["kind"] == "gen_ai.call"]
    failed, served = calls[-2], calls[-1]
    assert failed["gen_ai.response.model"] == "broken" and failed["gensandbox.status"] == "error"
    assert served["gen_ai.response.model"] == "echo" and served["gen_ai.request.model"] == "route:safe"
    assert served["gen_ai.conversation.id"] == "agent-7" and served["span_id"] == raw.headers["x-gensandbox-span"]
    assert served["gensandbox.route"] == "safe" and served["gen_ai.provider.name"] == "openai"
    assert "gen_ai.input.messages" not in served  # privacy "hashes" is the default
    from gensandbox.ledger.events import content_hash, strip_chain

    assert content_hash(strip_chain(served)) == check.payload["event"]


def test_a_streamed_answer_carries_its_receipt_in_the_last_chunk(gateway, tmp_path):
    chunks = list(client(gateway).chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "stream a receipt"}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    receipt = next(c.model_extra["gensandbox_receipt"] for c in chunks if (c.model_extra or {}).get(
        "gensandbox_receipt"))
    key = load_public_key(public_key(gateway, tmp_path))
    assert check_receipt(receipt, key, text.encode()).ok
    assert not check_receipt(receipt, key, (text + "!").encode()).ok


def test_the_live_ledger_verifies_and_shutdown_signs_the_head(gateway, tmp_path, capsys):
    for i in range(3):
        client(gateway).chat.completions.create(model="echo", messages=[{"role": "user", "content": f"n{i}"}])
    gateway.server.stop()  # lifespan shutdown: flush and a final checkpoint
    backend = SQLiteLedger(gateway.home / "ledger.db")
    lines = list(backend.lines())
    backend.close()
    verdict = verify_lines(lines, load_public_key(public_key(gateway, tmp_path)), require_signed_end=True)
    assert verdict.ok and verdict.records == 4 and verdict.checkpoints == 1, verdict
    assert main(["ledger", "verify"]) == 0
    assert "OK" in capsys.readouterr().out
