"""A personal calendar for the built-in agent suites: list, create, move and cancel events.

Deterministic and without I/O: new events are numbered E-101, E-102, …; an event that would overlap another is
refused with the other's name, as a real calendar warns. The snapshot's `schedule` (date -> start times) lets a
`final-state` check ask "is there an event at 15:00 on 2026-12-24" without depending on the title the model chose.
Named schedule.py, not calendar.py, so it is never mistaken for the standard library's calendar module.
"""

from __future__ import annotations

import copy
import datetime as dt
import re

STARTING_EVENTS = [
    {"event_id": "E-1", "title": "Team meeting", "date": "2026-12-21", "start": "10:00", "minutes": 60},
    {"event_id": "E-2", "title": "Dentist", "date": "2026-12-22", "start": "15:00", "minutes": 30},
    {"event_id": "E-3", "title": "Lunch with Mina", "date": "2026-12-24", "start": "12:00", "minutes": 60},
    {"event_id": "E-4", "title": "Project review", "date": "2026-12-24", "start": "16:00", "minutes": 60},
]
STARTING_EVENTS_KO = [
    {"event_id": "E-1", "title": "팀 회의", "date": "2026-12-21", "start": "10:00", "minutes": 60},
    {"event_id": "E-2", "title": "치과 예약", "date": "2026-12-22", "start": "15:00", "minutes": 30},
    {"event_id": "E-3", "title": "민아와 점심", "date": "2026-12-24", "start": "12:00", "minutes": 60},
    {"event_id": "E-4", "title": "프로젝트 검토", "date": "2026-12-24", "start": "16:00", "minutes": 60},
]
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MESSAGES = {
    "en": {"date": "date {value!r} must be YYYY-MM-DD, e.g. 2026-12-24", "start": "start {value!r} must be HH:MM "
           "(24-hour), e.g. 15:00", "minutes": "minutes must be a whole number from 5 to 720",
           "title": "title is empty", "no_event": "no event {id}; list_events shows the ids",
           "overlap": "{date} {start} overlaps {title} ({id}, {other_start}); pick another time or move that event"},
    "ko": {"date": "날짜 {value!r}는 YYYY-MM-DD 형식이어야 합니다 (예: 2026-12-24)",
           "start": "시작 시각 {value!r}는 HH:MM (24시간) 형식이어야 합니다 (예: 15:00)",
           "minutes": "minutes는 5부터 720까지의 정수여야 합니다", "title": "제목이 비어 있습니다",
           "no_event": "일정 {id}이(가) 없습니다. list_events로 번호를 확인하세요",
           "overlap": "{date} {start}은(는) {title}({id}, {other_start})과 겹칩니다. "
                      "다른 시각을 고르거나 그 일정을 옮기세요"},
}


class Calendar:
    """Tools: list_events, create_event, move_event, cancel_event. `events` replaces the starting events."""

    def __init__(self, language: str = "en", events: list[dict] | None = None):
        if language not in MESSAGES:
            raise ValueError(f"language must be one of {', '.join(MESSAGES)}, not {language!r}")
        self.language = language
        start = events if events is not None else (STARTING_EVENTS_KO if language == "ko" else STARTING_EVENTS)
        self._start = {event["event_id"]: dict(event) for event in start}
        self.reset()

    def reset(self) -> None:
        self.events: dict[str, dict] = copy.deepcopy(self._start)
        self.cancelled: list[str] = []
        self.created = 0

    def list_events(self, date: str) -> list[dict]:
        day = self._date(date)
        return [dict(e) for e in sorted(self.events.values(), key=lambda e: e["start"]) if e["date"] == day]

    def create_event(self, title: str, date: str, start: str, minutes: int = 60) -> dict:
        if not isinstance(title, str) or not title.strip():
            raise ValueError(self._say("title"))
        event = {"title": " ".join(title.split()), **self._slot(date, start, minutes)}
        self._check_free(event, None)
        self.created += 1
        event_id = f"E-{100 + self.created}"
        self.events[event_id] = {"event_id": event_id, **event}
        return dict(self.events[event_id])

    def move_event(self, event_id: str, date: str, start: str) -> dict:
        event = self._event(event_id)
        slot = self._slot(date, start, event["minutes"])
        self._check_free(slot, event_id)
        event.update(slot)
        return dict(event)

    def cancel_event(self, event_id: str) -> dict:
        event = self._event(event_id)
        del self.events[event_id]
        self.cancelled.append(event_id)
        return {"event_id": event_id, "title": event["title"], "status": "cancelled"}

    def snapshot(self) -> dict:
        """events (id -> event); schedule (date -> sorted start times); titles (date -> sorted titles);
        cancelled (ids, in order)."""
        schedule: dict[str, list[str]] = {}
        titles: dict[str, list[str]] = {}
        for event in self.events.values():
            schedule.setdefault(event["date"], []).append(event["start"])
            titles.setdefault(event["date"], []).append(event["title"])
        return {"events": copy.deepcopy(self.events), "schedule": {d: sorted(s) for d, s in sorted(schedule.items())},
                "titles": {d: sorted(t) for d, t in sorted(titles.items())}, "cancelled": list(self.cancelled)}

    def _slot(self, date: str, start: str, minutes: int) -> dict:
        if not isinstance(start, str) or not _TIME.match(start):
            raise ValueError(self._say("start", value=start))
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 720:
            raise ValueError(self._say("minutes"))
        return {"date": self._date(date), "start": start, "minutes": minutes}

    def _check_free(self, slot: dict, moving: str | None) -> None:
        begin, end = _span(slot)
        for other in self.events.values():
            if other["event_id"] != moving and other["date"] == slot["date"]:
                other_begin, other_end = _span(other)
                if begin < other_end and other_begin < end:
                    raise ValueError(self._say("overlap", date=slot["date"], start=slot["start"],
                                               title=other["title"], id=other["event_id"],
                                               other_start=other["start"]))

    def _event(self, event_id: str) -> dict:
        if event_id not in self.events:
            raise ValueError(self._say("no_event", id=event_id))
        return self.events[event_id]

    def _date(self, value: str) -> str:
        try:
            if isinstance(value, str) and len(value) == 10:  # fromisoformat alone also takes 20261224
                return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
        raise ValueError(self._say("date", value=value))

    def _say(self, key: str, **values) -> str:
        return MESSAGES[self.language][key].format(**values)


def _span(event: dict) -> tuple[int, int]:
    hours, minutes = map(int, event["start"].split(":"))
    begin = hours * 60 + minutes
    return begin, begin + event["minutes"]

