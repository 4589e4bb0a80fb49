"""The workbench's strings (sign-in, starting runs and audits, keys, projects), in English and Korean. Kept apart
from text.py's pages so each file stays readable; text.py merges them into the one table."""

from __future__ import annotations

WORKBENCH_STRINGS: dict[str, tuple[str, str]] = {
    "signin.title": ("Sign in", "로그인"),
    "signin.lead": ("Sign in with the key an admin gave you (gsk_…). The key stays on this page; the dashboard keeps "
                    "only a session.",
                    "관리자에게 받은 키(gsk_…)로 로그인하세요. 키는 이 페이지에만 입력되고, 대시보드는 세션만 "
                    "보관합니다."),
    "signin.key": ("Key", "키"),
    "signin.button": ("Sign in", "로그인"),
    "signin.wrong": ("This key is not valid (unknown or revoked).", "유효하지 않은 키입니다(없거나 폐기됨)."),
    "signout.button": ("Sign out", "로그아웃"),
    "who.role.admin": ("admin", "관리자"),
    "who.role.developer": ("developer", "개발자"),
    "who.role.tester": ("tester", "시험자"),
    "who.role.regulator": ("regulator", "규제 기관"),
    "who.signed_in": ("{role} · project {project}", "{role} · 프로젝트 {project}"),
    "nav.workbench": ("New evaluation", "새 평가"),
    "nav.keys": ("Keys", "키"),
    "error.denied": ("Not allowed", "허용되지 않음"),
}
