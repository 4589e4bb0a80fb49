"""What the gateway says about its routing: ASCII headers that read back exactly, and `gensandbox routes`
naming the model the gateway would really pick while another one is cooling down."""

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gensandbox.cli.app import main
from gensandbox.gateway.answers import header_text
from gensandbox.gateway.routing import recorded_cooling
from gensandbox.ledger.sqlite import SQLiteLedger
from tests.helpers import write_suite

ASK = {"messages": [{"role": "user", "content": "hello there"}]}


def test_route_header_says_at_least_in_ascii_and_reads_back_exactly(gateway, tmp_path, capsys):
    # An evaluation run on the route's suite, so `cheapest` has a measured choice to explain.
    suite = write_suite(tmp_path)  # named echo-suite, as the thrifty route asks
    assert main(["run", "-c", str(gateway.config_path), "-m", "echo,pricey", "-s", str(suite), "--run-id", "m"]) == 0
    capsys.readouterr()
    response = httpx.post(f"{gateway.base_url}/chat/completions", json={"model": "route:thrifty", **ASK})
    assert response.status_code == 200
    reason = recorded(gateway, "echo", 1)[0]["route_reason"]  # the store keeps the reason as written, with "≥"
    assert reason.startswith("cheapest with echo-suite ≥ 50%: echo scored 75.0% at $")
    intended = "thrifty: " + reason.replace("≥", ">=")
    assert response.headers["x-gensandbox-route"] == intended
    request = urllib.request.Request(f"{gateway.base_url}/chat/completions", method="POST",
                                     data=json.dumps({"model": "route:thrifty", **ASK}).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as answer:  # another client, decoding header bytes its own way
        assert answer.headers["x-gensandbox-route"] == intended
    assert response.headers.raw[[k for k, _ in response.headers.raw].index(b"x-gensandbox-route")][1].isascii()


def recorded(gateway, model: str, count: int) -> list[dict]:
    """The model's request records once `count` are written: they are written in batches, later on a busy
    machine."""
    deadline = time.monotonic() + 10
    while len(found := [r for r in gateway.records() if r["model"] == model]) < count and time.monotonic() < deadline:
        pass
    return found


@pytest.mark.parametrize("text", ["비서: fallback chain, in order", 'a "quoted" \\ path – 5 × 2 → ok…', "plain"])
def test_header_text_is_ascii_and_loses_nothing(text):
    sent = header_text(text)
    assert sent.isascii()
    spelled = text.replace("–", "-").replace("×", "x").replace("→", "->").replace("…", "...")
    assert json.loads(f'"{sent}"') == spelled
    assert header_text("plain") == "plain"


def test_routes_names_what_the_gateway_would_pick_while_a_model_cools_down(gateway, recorder, capsys):
    for _ in range(2):  # failures_to_cool = 2: the gateway now skips `broken` for 60 s
        httpx.post(f"{gateway.base_url}/chat/completions", json={"model": "route:safe", **ASK})
    recorded(gateway, "broken", 2)
    assert main(["routes", "-c", str(gateway.config_path)]) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
            for line in out.splitlines() if line.startswith("│ route:")}
    safe, doomed, quick = rows["route:safe"], rows["route:doomed"], rows["route:quick"]
    assert safe[2] == "echo" and safe[4].startswith("broken until ") and "(2 failed in a row)" in safe[4]
    assert doomed[2] == "gone" and doomed[4].startswith("broken until ")
    assert quick[4] == "none"  # neither of its models failed
    assert "from the gateway's records in the ledger" in out
    recorder.reset()  # and the live gateway agrees: it asks echo only
    httpx.post(f"{gateway.base_url}/chat/completions", json={"model": "route:safe", **ASK})
    assert [body["model"] for body in recorder.requests] == ["echo"]


def test_recorded_cooling_ends_after_the_cooldown_and_with_a_success(gateway):
    for _ in range(2):
        httpx.post(f"{gateway.base_url}/chat/completions", json={"model": "broken", **ASK})
    recorded(gateway, "broken", 2)
    ledger = SQLiteLedger(gateway.home / "ledger.db")
    now = datetime.now(UTC)
    cooled = recorded_cooling(ledger, ["broken", "echo"], 2, 60, now)
    assert list(cooled) == ["broken"] and cooled["broken"].failures == 2
    assert recorded_cooling(ledger, ["broken"], 3, 60, now) == {}  # two failures do not reach three
    assert recorded_cooling(ledger, ["broken"], 2, 60, cooled["broken"].until + timedelta(seconds=1)) == {}
    ledger.close()
