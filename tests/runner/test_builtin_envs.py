"""The built-in agent suites and their environments: the shop, the calendar and the civil-service desk behave as
the items expect (pure logic), and each suite has its category mix, unique ids, and expectations that name tools
the item offers and state the environment has."""

import json
import re
from collections import Counter

import pytest

from gensandbox.config import data_path
from gensandbox.runner.environments import environment_class
from gensandbox.runner.suite import BUILTIN_LICENSE, open_suite

SUITES = data_path("suites")
TOOL_MIX = {"single": 8, "multiple": 8, "parallel": 8, "irrelevance": 8, "stateful": 10}
RISK_MIX = {"injection": 8, "excessive-agency": 8, "secret-leak": 8}


def env(name: str, **args):
    instance = environment_class(name, SUITES)(**args)
    instance.reset()
    return instance


def load(name: str) -> list[dict]:
    lines = (SUITES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


# The shop

def test_shop_fills_a_cart_orders_it_and_numbers_the_order():
    shop = env("envs/shop.py:Shop", language="ko")
    assert [p["product_id"] for p in shop.search_products("마우스")] == ["P-101"]
    assert shop.add_to_cart(product_id="P-101", quantity=2) == {"items": {"P-101": 2}, "total": 70000,
                                                                "currency": "KRW"}
    order = shop.place_order(address="서울특별시 종로구 세종대로 209")
    assert order == {"order_id": "O-2001", "total": 70000, "currency": "KRW", "status": "placed"}
    assert shop.snapshot()["new_orders"] == [{"items": {"P-101": 2}, "total": 70000}]
    assert shop.snapshot()["cart"] == {}


def test_shop_refunds_only_delivered_orders_and_cancels_only_placed_ones():
    shop = env("envs/shop.py:Shop", language="en")
    with pytest.raises(ValueError, match="only a delivered order can be refunded"):
        shop.refund_order(order_id="O-1002", reason="late")
    assert shop.refund_order(order_id="O-1001", reason="broken")["amount"] == 25
    with pytest.raises(ValueError, match="only an order still being prepared"):
        shop.cancel_order(order_id="O-1001")
    shop.cancel_order(order_id="O-1002")
    assert shop.snapshot()["order_status"] == {"O-1001": "refunded", "O-1002": "cancelled"}
    assert shop.snapshot()["refunds"] == {"O-1001": 25}


@pytest.mark.parametrize("call, message", [
    (lambda s: s.add_to_cart(product_id="P-999"), "상품 P-999이(가) 없습니다"),
    (lambda s: s.add_to_cart(product_id="P-105"), "재고는 0개뿐입니다"),
    (lambda s: s.add_to_cart(product_id="P-101", quantity=0), "수량은 1부터 10까지"),
    (lambda s: s.add_to_cart(product_id="P-101", quantity="2"), "수량은 1부터 10까지"),
    (lambda s: s.place_order(address="서울"), "장바구니가 비어 있습니다"),
    (lambda s: s.search_products(query=" "), "검색어가 비어 있습니다"),
])
def test_shop_refuses_bad_calls_in_the_items_language(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(env("envs/shop.py:Shop", language="ko"))


def test_reset_brings_back_the_starting_state():
    shop = env("envs/shop.py:Shop", language="en")
    before = shop.snapshot()
    shop.add_to_cart(product_id="P-103")
    shop.cancel_order(order_id="O-1002")
    shop.reset()
    assert shop.snapshot() == before


# The calendar

def test_calendar_creates_moves_and_cancels_and_the_schedule_follows():
    calendar = env("envs/schedule.py:Calendar", language="en")
    created = calendar.create_event(title="Dentist", date="2026-12-24", start="15:00", minutes=30)
    assert created["event_id"] == "E-101"
    calendar.move_event(event_id="E-3", date="2026-12-24", start="13:00")
    calendar.cancel_event(event_id="E-2")
    state = calendar.snapshot()
    assert state["schedule"] == {"2026-12-21": ["10:00"], "2026-12-24": ["13:00", "15:00", "16:00"]}
    assert state["cancelled"] == ["E-2"]
    assert [e["title"] for e in calendar.list_events(date="2026-12-24")] == ["Lunch with Mina", "Dentist",
                                                                             "Project review"]


def test_calendar_lists_a_day_in_time_order():
    calendar = env("envs/schedule.py:Calendar", language="ko")
    assert [e["title"] for e in calendar.list_events(date="2026-12-24")] == ["민아와 점심", "프로젝트 검토"]
    assert calendar.list_events(date="2026-12-25") == []


def test_calendar_refuses_an_overlap_naming_the_other_event():
    calendar = env("envs/schedule.py:Calendar", language="en")
    with pytest.raises(ValueError, match=r"overlaps Lunch with Mina \(E-3, 12:00\)"):
        calendar.create_event(title="Gym", date="2026-12-24", start="12:30")
    calendar.create_event(title="Gym", date="2026-12-24", start="17:00")  # right after the review: no overlap
    calendar.move_event(event_id="E-4", date="2026-12-24", start="15:30")  # overlapping its own old time is fine
    with pytest.raises(ValueError, match="overlaps Gym"):
        calendar.move_event(event_id="E-3", date="2026-12-24", start="17:30")


@pytest.mark.parametrize("arguments, message", [
    ({"date": "2026/12/24", "start": "15:00"}, "YYYY-MM-DD"),
    ({"date": "20261224", "start": "15:00"}, "YYYY-MM-DD"),
    ({"date": "2026-02-30", "start": "15:00"}, "YYYY-MM-DD"),
    ({"date": "2026-12-24", "start": "3pm"}, "HH:MM"),
    ({"date": "2026-12-24", "start": "15:00", "minutes": 0}, "minutes"),
    ({"date": "2026-12-24", "start": "15:00", "title": " "}, "제목이 비어"),
])
def test_calendar_refuses_bad_dates_times_and_lengths(arguments, message):
    calendar = env("envs/schedule.py:Calendar", language="ko")
    with pytest.raises(ValueError, match=message):
        calendar.create_event(**{"title": "치과", **arguments})


# The civil-service desk

def test_desk_registers_a_move_and_issues_certificates_with_fees():
    desk = env("envs/civil_service.py:CivilService", language="ko")
    desk.report_move_in(new_address="서울특별시  종로구 세종대로 209", move_date="2026-12-20")
    issued = desk.issue_certificate(kind="주민등록등본", copies=2)
    assert issued["fee"] == 800 and issued["address_shown"] == "서울특별시 종로구 세종대로 209"
    state = desk.snapshot()
    assert (state["address"], state["move_in_date"]) == ("서울특별시 종로구 세종대로 209", "2026-12-20")
    assert (state["issued"], state["fees"]) == ({"주민등록등본": 2}, 800)


def test_desk_books_free_slots_only_and_cancels():
    desk = env("envs/civil_service.py:CivilService", language="en", booked=[["Downtown Office", "2026-12-28", "09:00"]])
    assert desk.list_slots(office="Downtown Office", date="2026-12-28")["free"][0] == "10:00"
    with pytest.raises(ValueError, match="no free slot at 2026-12-28 09:00; free: 10:00"):
        desk.book_appointment(service="passport renewal", office="Downtown Office", date="2026-12-28", time="09:00")
    booked = desk.book_appointment(service="passport renewal", office="Downtown Office", date="2026-12-28",
                                   time="10:00")
    assert booked["appointment_id"] == "A-1"
    assert "10:00" not in desk.list_slots(office="Downtown Office", date="2026-12-28")["free"]
    desk.cancel_appointment(appointment_id="A-1")
    assert desk.snapshot()["appointments"] == {}


@pytest.mark.parametrize("arguments, message", [
    ({"service": "여권 연장"}, "service는 다음 중 하나"),
    ({"office": "서초구청"}, "office는 다음 중 하나여야 합니다: 종로구청, 강남구청, 마포구청"),
    ({"date": "2026-12-26"}, "주말이라"),
    ({"time": "09:30"}, "예약 가능한 시각이 아닙니다"),
])
def test_desk_refuses_in_korean_with_the_accepted_values(arguments, message):
    desk = env("envs/civil_service.py:CivilService", language="ko")
    with pytest.raises(ValueError, match=message):
        desk.book_appointment(**{"service": "여권 재발급", "office": "종로구청", "date": "2026-12-28", "time": "10:00",
                                 **arguments})


def test_desk_refuses_unknown_certificates_and_too_many_copies():
    desk = env("envs/civil_service.py:CivilService", language="en")
    with pytest.raises(ValueError, match="kind must be one of: residence certificate"):
        desk.issue_certificate(kind="passport")
    with pytest.raises(ValueError, match="copies must be a whole number from 1 to 5"):
        desk.issue_certificate(kind="birth certificate", copies=6)
    with pytest.raises(ValueError, match="full street address"):
        desk.report_move_in(new_address="Springfield", move_date="2026-12-20")


def test_an_unknown_language_is_refused_when_the_environment_is_built():
    with pytest.raises(ValueError, match=r"language must be one of .*, not 'fr'"):
        environment_class("envs/shop.py:Shop", SUITES)(language="fr")


# The suites

@pytest.mark.parametrize("name, language, mix", [
    ("tools-en", "en", TOOL_MIX), ("tools-ko", "ko", TOOL_MIX),
    ("agent-risk-en", "en", RISK_MIX), ("agent-risk-ko", "ko", RISK_MIX),
])
def test_suite_has_its_category_mix_and_unique_ids(name, language, mix):
    items = load(name)
    counts = Counter(item["category"] for item in items)
    assert set(counts) == set(mix)
    assert all(counts[category] >= least for category, least in mix.items()), counts
    assert len(items) >= (40 if name.startswith("tools") else 24)
    assert len({item["id"] for item in items}) == len(items)
    assert {item["language"] for item in items} == {language}
    suite = open_suite(name, SUITES / f"{name}.jsonl", "jsonl", license=BUILTIN_LICENSE)  # the loader's own checks
    assert suite.count == len(items)


@pytest.mark.parametrize("name", ["tools-en", "tools-ko", "agent-risk-en", "agent-risk-ko"])
def test_expectations_name_offered_tools_and_existing_state(name):
    for item in load(name):
        offered = {tool["name"] for tool in item["tools"]}
        spec = item["scorer"] if isinstance(item["scorer"], dict) else {"name": item["scorer"]}
        scorer, args = spec["name"], spec.get("args", {})
        if scorer == "tool-calls":
            for calls in [args["calls"], *args.get("alternatives", [])]:
                assert {call["name"] for call in calls} <= offered, item["id"]
        if scorer == "no-tool":
            assert set(args.get("tools", [])) <= offered, item["id"]
        if "attack" in item:
            assert set(item["attack"].get("tools", [])) <= offered, item["id"]
        if "environment" in item and isinstance(item["environment"], dict) and "results" in item["environment"]:
            assert {rule["tool"] for rule in item["environment"]["results"]} <= offered, item["id"]
        if scorer == "final-state":
            spec = item["environment"]
            reference, env_args = (spec, {}) if isinstance(spec, str) else (spec["class"], spec.get("args", {}))
            assert set(args["state"]) <= set(env(reference, **env_args).snapshot()), item["id"]


def test_risk_probes_score_the_users_task_and_name_what_the_attack_is():
    for item in load("agent-risk-en") + load("agent-risk-ko"):
        attack = item["attack"]
        assert attack["description"], item["id"]
        if item["category"] == "secret-leak":
            assert attack["containing"], item["id"]  # the secret itself
        else:
            assert attack["tools"], item["id"]  # the tool that would carry the attack out
        if item["scorer"] == "includes":
            assert item["target"], item["id"]  # what the user asked for shows in the answer


def test_korean_items_are_written_in_hangul():
    for item in load("tools-ko") + load("agent-risk-ko"):
        assert any("가" <= ch <= "힣" for ch in item["messages"][-1]["content"]), item["id"]
