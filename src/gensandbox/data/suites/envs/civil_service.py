"""A civil-service desk for the built-in agent suites: certificates, a change of address (전입신고) and appointments
at an office (여권 재발급 예약 and the like).

Deterministic and without I/O. Offices open on weekdays at fixed hours; appointments are numbered A-1, A-2, …;
certificate kinds, services and offices are fixed lists in the item's language (`language="ko"` or "en"), and
what the desk refuses, it refuses in that language with the accepted values, so a model can correct its call.
"""

from __future__ import annotations

import copy
import datetime as dt

CATALOGUE = {
    "ko": {"certificates": {"주민등록등본": 400, "주민등록초본": 400, "가족관계증명서": 1000},
           "services": ["여권 재발급", "여권 신규 발급", "운전면허 갱신", "인감 등록"],
           "offices": ["종로구청", "강남구청", "마포구청"],
           "address": "서울특별시 마포구 월드컵북로 400"},
    "en": {"certificates": {"residence certificate": 2, "birth certificate": 5, "marriage certificate": 5},
           "services": ["passport renewal", "new passport", "driver license renewal", "voter registration"],
           "offices": ["Downtown Office", "Riverside Office", "North Office"],
           "address": "12 Oak Street, Springfield"},
}
SLOTS = ["09:00", "10:00", "11:00", "14:00", "15:00", "16:00"]
MAX_COPIES = 5
MESSAGES = {
    "en": {"kind": "kind must be one of: {choices}", "copies": "copies must be a whole number from 1 to {max}",
           "service": "service must be one of: {choices}", "office": "office must be one of: {choices}",
           "date": "date {value!r} must be YYYY-MM-DD, e.g. 2026-12-24", "weekend": "offices are closed on {value} "
           "(a weekend); choose a weekday", "time": "{value!r} is not an opening slot; slots are {choices}",
           "taken": "{office} has no free slot at {date} {time}; free: {choices}",
           "address": "new_address must be a full street address", "no_appointment": "no appointment {id}"},
    "ko": {"kind": "kind는 다음 중 하나여야 합니다: {choices}", "copies": "copies는 1부터 {max}까지의 정수여야 합니다",
           "service": "service는 다음 중 하나여야 합니다: {choices}",
           "office": "office는 다음 중 하나여야 합니다: {choices}",
           "date": "날짜 {value!r}는 YYYY-MM-DD 형식이어야 합니다 (예: 2026-12-24)",
           "weekend": "{value}은(는) 주말이라 민원실이 쉽니다. 평일을 고르세요",
           "time": "{value!r}은(는) 예약 가능한 시각이 아닙니다. 가능한 시각: {choices}",
           "taken": "{office}의 {date} {time}은(는) 이미 예약되었습니다. 빈 시각: {choices}",
           "address": "new_address에는 도로명까지 포함한 전체 주소를 적어야 합니다",
           "no_appointment": "예약 {id}이(가) 없습니다"},
}


class CivilService:
    """Tools: issue_certificate, report_move_in, list_slots, book_appointment, cancel_appointment.
    `appointments` (id -> {service, office, date, time}) and `address` set the starting state; `booked` lists
    slots other residents already hold, as [office, date, time]."""

    def __init__(self, language: str = "en", address: str | None = None, appointments: dict | None = None,
                 booked: list[list[str]] | None = None):
        if language not in CATALOGUE:
            raise ValueError(f"language must be one of {', '.join(CATALOGUE)}, not {language!r}")
        self.language = language
        self.catalogue = CATALOGUE[language]
        self._start_address = address or self.catalogue["address"]
        self._start_appointments = copy.deepcopy(appointments or {})
        self._booked_by_others = {tuple(slot) for slot in booked or []}
        self.reset()

    def reset(self) -> None:
        self.address = self._start_address
        self.move_in_date: str | None = None
        self.issued: dict[str, int] = {}
        self.fees = 0
        self.appointments: dict[str, dict] = copy.deepcopy(self._start_appointments)
        self.numbered = len(self.appointments)

    def issue_certificate(self, kind: str, copies: int = 1) -> dict:
        fees = self.catalogue["certificates"]
        if kind not in fees:
            raise ValueError(self._say("kind", choices=", ".join(fees)))
        if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
            raise ValueError(self._say("copies", max=MAX_COPIES))
        self.issued[kind] = self.issued.get(kind, 0) + copies
        self.fees += fees[kind] * copies
        return {"kind": kind, "copies": copies, "fee": fees[kind] * copies, "address_shown": self.address}

    def report_move_in(self, new_address: str, move_date: str) -> dict:
        if not isinstance(new_address, str) or len(new_address.split()) < 2:
            raise ValueError(self._say("address"))
        self.move_in_date = self._date(move_date, weekdays_only=False)
        self.address = " ".join(new_address.split())
        return {"address": self.address, "move_date": self.move_in_date, "status": "registered"}

    def list_slots(self, office: str, date: str) -> dict:
        office, day = self._office(office), self._date(date)
        return {"office": office, "date": day, "free": self._free(office, day)}

    def book_appointment(self, service: str, office: str, date: str, time: str) -> dict:
        if service not in self.catalogue["services"]:
            raise ValueError(self._say("service", choices=", ".join(self.catalogue["services"])))
        office, day = self._office(office), self._date(date)
        if time not in SLOTS:
            raise ValueError(self._say("time", value=time, choices=", ".join(SLOTS)))
        if time not in self._free(office, day):
            raise ValueError(self._say("taken", office=office, date=day, time=time,
                                       choices=", ".join(self._free(office, day))))
        self.numbered += 1
        appointment_id = f"A-{self.numbered}"
        self.appointments[appointment_id] = {"service": service, "office": office, "date": day, "time": time}
        return {"appointment_id": appointment_id, **self.appointments[appointment_id]}

    def cancel_appointment(self, appointment_id: str) -> dict:
        if appointment_id not in self.appointments:
            raise ValueError(self._say("no_appointment", id=appointment_id))
        cancelled = self.appointments.pop(appointment_id)
        return {"appointment_id": appointment_id, **cancelled, "status": "cancelled"}

    def snapshot(self) -> dict:
        """address, move_in_date, issued (kind -> copies), fees, appointments (id -> {service, office, date, time})."""
        return {"address": self.address, "move_in_date": self.move_in_date, "issued": dict(self.issued),
                "fees": self.fees, "appointments": copy.deepcopy(self.appointments)}

    def _free(self, office: str, day: str) -> list[str]:
        held = {(a["office"], a["date"], a["time"]) for a in self.appointments.values()} | self._booked_by_others
        return [slot for slot in SLOTS if (office, day, slot) not in held]

    def _office(self, office: str) -> str:
        if office not in self.catalogue["offices"]:
            raise ValueError(self._say("office", choices=", ".join(self.catalogue["offices"])))
        return office

    def _date(self, value: str, weekdays_only: bool = True) -> str:
        try:
            day = dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise ValueError(self._say("date", value=value))
        if weekdays_only and day.weekday() >= 5:
            raise ValueError(self._say("weekend", value=day.isoformat()))
        return day.isoformat()

    def _say(self, key: str, **values) -> str:
        return MESSAGES[self.language][key].format(**values)
