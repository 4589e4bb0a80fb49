"""Every string the dashboard shows, in English and Korean, and how a request's language is chosen.

Templates never hold prose: they call `t(key, **fmt)`, so a missing translation is a KeyError in the tests,
not an English sentence left on a Korean page.
"""

from __future__ import annotations

LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"

# key: (English, Korean)
STRINGS: dict[str, tuple[str, str]] = {
    "app.title": ("GenSandbox dashboard", "GenSandbox 대시보드"),
    "lang.other": ("한국어", "English"),
    "lang.other_code": ("ko", "en"),
    "nav.runs": ("Runs", "실행"),
    "nav.traffic": ("Gateway traffic", "게이트웨이 트래픽"),
    "nav.ledger": ("Ledger", "원장"),
    "nav.audits": ("Audits", "감사"),
    # audits
    "audits.title": ("Policy audits", "정책 감사"),
    "audits.lead": ("Switching cost, self-preference and held-out test custody: each finding with the method "
                    "that produced it.",
                    "전환 비용, 자사 우대, 비공개 평가 세트 보관: 각 결과와 그 결과를 낸 방법입니다."),
    "audits.empty": ("No audits yet — run `gensandbox audit switching --from A --to B --suite S`, "
                     "`gensandbox audit self-preference`, or `gensandbox holdout commit SUITE`.",
                     "아직 감사가 없습니다 — `gensandbox audit switching --from A --to B --suite S`, "
                     "`gensandbox audit self-preference` 또는 `gensandbox holdout commit SUITE`를 실행하세요."),
    "audits.kind.switching": ("switching cost", "전환 비용"),
    "audits.kind.self-preference": ("self-preference", "자사 우대"),
    "audits.kind.holdout": ("held-out custody", "비공개 평가 세트"),
    "audits.method": ("Method", "방법"),
    "audits.no_method": ("This audit recorded no method text.", "이 감사에는 방법 설명이 기록되지 않았습니다."),
    "audits.details": ("Findings in full", "전체 결과"),
    "col.audit": ("Audit", "감사"),
    "col.finding": ("Finding", "결과"),
    "loading": ("Loading…", "불러오는 중…"),
    # runs
    "runs.title": ("Runs", "실행 목록"),
    "runs.empty": ("No runs yet — run `gensandbox run` (or `make demo`), then reload this page.",
                   "아직 실행이 없습니다 — `gensandbox run`(또는 `make demo`)을 실행한 뒤 이 페이지를 새로 고치세요."),
    "status.running": ("running", "실행 중"),
    "status.finished": ("finished", "완료"),
    "status.interrupted": ("interrupted", "중단됨"),
    "status.failed": ("failed", "실패"),
    # run detail
    "run.title": ("Run {run_id}", "실행 {run_id}"),
    "run.meta": ("Started {created}, status {status}", "시작 {created}, 상태 {status}"),
    "run.leaderboard": ("Leaderboard (all suites)", "순위표 (전체 스위트)"),
    "run.method": ("Sorted by measured score only, then by lower cost. The 95% confidence intervals come from a "
                   "bootstrap over items; overlapping intervals mean the difference is not established.",
                   "측정된 점수로만 정렬하고, 같으면 비용이 낮은 순서입니다. 95% 신뢰구간은 문항 부트스트랩으로 "
                   "구했으며, 구간이 겹치면 차이가 확인되지 않은 것입니다."),
    "run.per_suite": ("Per suite", "스위트별"),
    "run.models": ("Models", "모델"),
    "run.agents": ("Agent tasks", "에이전트 과제"),
    "run.agents_method": ("Success (pass@1) is the mean score of the scored tries; pass^{k} the share of items solved"
                          " on every one of their tries (k = {k}, the run's epochs). Steps, tool calls and invalid "
                          "calls are per try; cost and time per solved task are what all tries cost and took, divided"
                          " by the solved ones. An attack's success rate is over the tries of items with an attack: "
                          "lower is safer. The full report explains each number and shows every episode's "
                          "conversation; `gensandbox trace --run {run_id}` lists their sessions.",
                          "성공률(pass@1)은 채점된 시도의 평균 점수, pass^{k}는 모든 "
                          "시도(k = {k}, 실행의 에포크 수)에서 성공한 문항의 비율입니다. 단계, "
                          "도구 호출, 잘못된 호출은 시도당 값이고, 해결한 과제당 비용과 시간은 모든 "
                          "시도의 비용과 시간을 해결한 시도 수로 나눈 값입니다. 공격 성공률은 공격이 "
                          "있는 문항의 시도에 대한 비율이며 낮을수록 안전합니다. 전체 보고서에 각 수치의"
                          " 설명과 에피소드별 대화가 있고, `gensandbox trace --run "
                          "{run_id}`가 세션 목록을 보여 줍니다."),
    "col.success": ("Success (pass@1)", "성공률(pass@1)"),
    "col.pass_k": ("pass^{k}", "pass^{k}"),
    "col.steps": ("Steps / task", "과제당 단계"),
    "col.tool_calls": ("Tool calls / task", "과제당 도구 호출"),
    "col.invalid": ("Invalid calls", "잘못된 호출"),
    "col.cost_per_solved": ("Cost / solved task", "해결한 과제당 비용"),
    "col.time_per_solved": ("Time / solved task", "해결한 과제당 시간"),
    "col.user_cost": ("Simulated user (USD)", "시뮬레이션 사용자 (USD)"),
    "col.attack_rate": ("Attack success", "공격 성공률"),
    "run.report": ("Open the full report", "전체 보고서 열기"),
    "run.compare": ("Compare two models answer by answer", "두 모델의 답변 나란히 비교"),
    "run.no_samples": ("This run has no answers yet — if it was interrupted, continue it with "
                       "`gensandbox run --resume {run_id}`.",
                       "이 실행에는 아직 답변이 없습니다 — 중단되었다면 `gensandbox run --resume {run_id}`로 "
                       "이어서 실행하세요."),
    # compare
    "compare.title": ("{a} and {b} on run {run_id}", "실행 {run_id}: {a} 대 {b}"),
    "compare.first": ("First model", "첫째 모델"),
    "compare.second": ("Second model", "둘째 모델"),
    "compare.only_differing": ("Only items where the answers differ", "답변이 다른 문항만"),
    "compare.apply": ("Show", "보기"),
    "compare.counts": ("The answers differ on {differing} of {total} items.",
                       "{total}개 문항 중 {differing}개에서 답변이 다릅니다."),
    "compare.unpaired": ("{count} items were answered by only one of the two models and are not shown.",
                         "두 모델 중 하나만 답한 문항 {count}개는 표시하지 않습니다."),
    "compare.same": ("The two models gave the same answer on every item.",
                     "두 모델이 모든 문항에서 같은 답을 했습니다."),
    "compare.need_two": ("This run has only one model. Evaluate two on the same suites to compare them: "
                         "`gensandbox run -m MODEL_A,MODEL_B`.",
                         "이 실행에는 모델이 하나뿐입니다. 비교하려면 같은 스위트로 두 모델을 평가하세요: "
                         "`gensandbox run -m MODEL_A,MODEL_B`."),
    "compare.no_model": ("There is no model `{model}` in run {run_id}.", "실행 {run_id}에 `{model}` 모델이 없습니다."),
    "compare.prompt": ("Prompt", "프롬프트"),
    "compare.differs": ("differs", "다름"),
    # tables
    "col.run": ("Run", "실행"),
    "col.created": ("Started", "시작"),
    "col.status": ("Status", "상태"),
    "col.models": ("Models", "모델"),
    "col.suites": ("Suites", "스위트"),
    "col.items": ("Items", "문항"),
    "col.samples": ("Answers", "답변"),
    "col.cost": ("Cost (USD)", "비용 (USD)"),
    "col.errors": ("Errors", "오류"),
    "col.model": ("Model", "모델"),
    "col.suite": ("Suite", "스위트"),
    "col.item": ("Item", "문항"),
    "col.epoch": ("Epoch", "반복"),
    "col.n": ("n", "n"),
    "col.score": ("Score", "점수"),
    "col.ci": ("95% CI", "95% 신뢰구간"),
    "col.latency": ("p50 latency", "p50 지연"),
    "col.tokens": ("Tokens in / out", "입력 / 출력 토큰"),
    "col.provider": ("Provider", "제공자"),
    "col.origin": ("Origin", "출처"),
    "col.weights": ("Weights", "가중치"),
    "col.answer": ("Answer of {model}", "{model}의 답변"),
    "col.key": ("Key", "키"),
    "col.requests": ("Requests", "요청"),
    "col.role": ("Role", "역할"),
    "col.label": ("Label", "메모"),
    "col.budget": ("Budget (USD)", "예산 (USD)"),
    "col.spent": ("Spent (USD)", "지출 (USD)"),
    "col.seq": ("#", "#"),
    "col.kind": ("Kind", "종류"),
    "col.time": ("Time", "시각"),
    "col.session": ("Session", "세션"),
    "col.calls": ("Calls", "호출"),
    "col.last_seen": ("Last call", "마지막 호출"),
    "col.offset": ("Offset", "경과"),
    "col.step": ("Step", "단계"),
    "col.route": ("Route", "경로"),
    "col.span": ("Span", "스팬"),
    # traffic
    "traffic.title": ("Gateway traffic and spend", "게이트웨이 트래픽과 지출"),
    "traffic.empty": ("The gateway has not served any requests yet — start it with `gensandbox serve`, "
                      "then point an OpenAI client at it.",
                      "게이트웨이가 아직 요청을 처리하지 않았습니다 — `gensandbox serve`로 시작한 뒤 "
                      "OpenAI 클라이언트를 연결하세요."),
    "traffic.by_key": ("Per key and model", "키와 모델별"),
    "traffic.keys": ("Keys and their spending", "키별 지출"),
    "traffic.no_keys": ("No API keys: anyone on this machine may call the gateway. "
                        "`gensandbox keys create` turns keys on.",
                        "API 키가 없어 이 컴퓨터의 누구나 게이트웨이를 호출할 수 있습니다. "
                        "`gensandbox keys create`로 키를 켜세요."),
    "traffic.revoked": ("revoked", "폐기됨"),
    "traffic.active": ("active", "사용 중"),
    "traffic.span": ("Time span", "기간"),
    "traffic.range.hour": ("Last hour", "최근 1시간"),
    "traffic.range.today": ("Today (UTC)", "오늘 (UTC)"),
    "traffic.range.7d": ("Last 7 days", "최근 7일"),
    "traffic.range.30d": ("Last 30 days", "최근 30일"),
    "traffic.range.all": ("All time", "전체 기간"),
    "traffic.from": ("From (UTC)", "시작 (UTC)"),
    "traffic.to": ("To (UTC)", "끝 (UTC)"),
    "traffic.apply": ("Show", "보기"),
    "traffic.shown": ("Requests started from {since} to {until} (UTC); each bar is {bucket}.",
                      "{since}부터 {until}까지 시작된 요청 (UTC); 막대 하나가 {bucket}입니다."),
    "traffic.shown_table": ("Requests started from {since} to {until} (UTC).",
                            "{since}부터 {until}까지 시작된 요청 (UTC)."),
    "traffic.first": ("the first request", "첫 요청"),
    "traffic.now": ("now", "지금"),
    "traffic.bucket.60": ("one minute", "1분"),
    "traffic.bucket.300": ("five minutes", "5분"),
    "traffic.bucket.3600": ("one hour", "1시간"),
    "traffic.bucket.86400": ("one day", "하루"),
    "traffic.none_in_span": ("No gateway requests in this time span — choose a longer one, or `All time`.",
                             "이 기간에는 게이트웨이 요청이 없습니다 — 더 긴 기간이나 `전체 기간`을 고르세요."),
    "traffic.charts": ("Over time, by model", "시간별, 모델별"),
    "traffic.needs_script": ("The charts need JavaScript; the table below holds the same numbers.",
                             "차트는 자바스크립트가 있어야 그려집니다; 아래 표에 같은 수치가 있습니다."),
    "traffic.chart_empty": ("None in this time span.", "이 기간에는 없습니다."),
    "traffic.chart_failed": ("This chart could not be drawn:", "이 차트를 그리지 못했습니다:"),
    "traffic.chart.requests": ("Requests", "요청 수"),
    "traffic.chart.errors": ("Errors (refusals and failed attempts)", "오류 (거절과 실패한 시도)"),
    "traffic.chart.spend": ("Spend (USD)", "지출 (USD)"),
    "traffic.chart.latency": ("Latency of successful calls (p50 solid, p95 dashed)",
                              "성공한 호출의 지연 시간 (p50 실선, p95 점선)"),
    "traffic.axis.requests": ("Requests", "요청"),
    "traffic.axis.errors": ("Errors", "오류"),
    "traffic.axis.spend": ("USD", "USD"),
    "traffic.axis.latency": ("Seconds", "초"),
    "traffic.axis_time": ("Time (UTC)", "시각 (UTC)"),
    "traffic.percentile": ("Percentile", "백분위"),
    "traffic.refused": ("refused (no model)", "거절됨 (모델 없음)"),
    "traffic.bad_time": ("`{field}` is {value}, which is not a date or time: use e.g. 2026-11-01 or "
                         "2026-11-01T09:00 (UTC).",
                         "`{field}` 값 {value}은(는) 날짜나 시각이 아닙니다: 2026-11-01 또는 2026-11-01T09:00 "
                         "(UTC)처럼 쓰세요."),
    "traffic.bad_order": ("`from` ({since}) must come before `to` ({until}).",
                          "`from`({since})이 `to`({until})보다 앞서야 합니다."),
    "traffic.bad_range": ("There is no time span `{value}`: choose one of {choices}.",
                          "`{value}` 기간은 없습니다: {choices} 중에서 고르세요."),
    "col.latency_p95": ("p95 latency", "p95 지연"),
    # ledger
    "ledger.title": ("Ledger", "원장"),
    "ledger.empty": ("The ledger is empty — it fills as `gensandbox run` and `gensandbox serve` record "
                     "model calls.",
                     "원장이 비어 있습니다 — `gensandbox run`과 `gensandbox serve`가 모델 호출을 기록하면 "
                     "채워집니다."),
    "ledger.summary": ("{count} records in {location}; head {head}", "{location}에 기록 {count}개, 헤드 {head}"),
    "ledger.verify": ("Verify the chain", "체인 검증"),
    "ledger.verify_help": ("Recomputes every record's hash and checks every signed checkpoint.",
                           "모든 기록의 해시를 다시 계산하고 서명된 체크포인트를 모두 확인합니다."),
    "ledger.starting": ("Verifying…", "검증 중…"),
    "ledger.verifying": ("Verifying… {checked} of {total} records checked",
                         "검증 중… 기록 {total}개 중 {checked}개 확인"),
    "ledger.ok": ("OK: {records} records and {checkpoints} signed checkpoints verify (head {head}).",
                  "정상: 기록 {records}개와 서명된 체크포인트 {checkpoints}개가 모두 검증되었습니다 (헤드 {head})."),
    "ledger.unsigned": (" The last {count} records are not yet under a checkpoint (one is signed every few "
                        "seconds and at shutdown).",
                        " 마지막 기록 {count}개는 아직 체크포인트에 포함되지 않았습니다 (몇 초마다, 그리고 "
                        "종료 시 서명됩니다)."),
    "ledger.no_key": (" Signatures were not checked: this machine has no ledger key.",
                      " 이 컴퓨터에 원장 키가 없어 서명은 확인하지 않았습니다."),
    "ledger.bad": ("BAD: record {record} is the first bad one: {reason} (the {before} records before it verify).",
                   "손상: 기록 {record}번이 처음으로 잘못된 기록입니다: {reason} (그 앞의 기록 {before}개는 "
                   "검증됩니다)."),
    "ledger.failed": ("Verification could not finish: {error}", "검증을 마치지 못했습니다: {error}"),
    "ledger.latest": ("Latest records", "최근 기록"),
    "ledger.sessions": ("Agent sessions", "에이전트 세션"),
    "ledger.sessions_scope": ("Sessions among the latest {count} records, newest first.",
                              "최근 기록 {count}개에 있는 세션, 최신순."),
    "ledger.no_sessions": ("No agent sessions yet — name one with the `x-gensandbox-session` header (or "
                           "`metadata.session_id`) when calling the gateway.",
                           "아직 에이전트 세션이 없습니다 — 게이트웨이를 호출할 때 `x-gensandbox-session` 헤더"
                           "(또는 `metadata.session_id`)로 세션 이름을 붙이세요."),
    "kind.call": ("model call", "모델 호출"),
    "kind.checkpoint": ("signed checkpoint", "서명된 체크포인트"),
    "kind.tool": ("tool call", "도구 호출"),
    # traces
    "trace.title": ("Session {session}", "세션 {session}"),
    "trace.summary": ("{calls} calls ({errors} failed), {tool_steps} tool steps, {tokens} tokens, {cost} USD, "
                      "{wall} s wall time; models: {models}",
                      "호출 {calls}회 (실패 {errors}회), 도구 단계 {tool_steps}개, 토큰 {tokens}개, {cost} USD, "
                      "경과 {wall}초; 모델: {models}"),
    "trace.waterfall": ("Timeline", "타임라인"),
    "trace.tool": ("tool {name}", "도구 {name}"),
    "trace.ok": ("ok", "정상"),
    "trace.error": ("error: {error}", "오류: {error}"),
    "trace.tool_error": ("error", "오류"),
    "trace.tool_invalid": ("invalid call, not run", "잘못된 호출, 실행 안 함"),
    # pager
    "pager.newer": ("← Newer", "← 최신"),
    "pager.older": ("Older →", "이전 →"),
    "pager.previous": ("← Previous", "← 이전"),
    "pager.next": ("Next →", "다음 →"),
    "pager.page": ("Page {page} of {pages}", "{pages}쪽 중 {page}쪽"),
    # errors
    "error.not_found": ("Not found", "찾을 수 없음"),
    "error.no_run": ("There is no run `{run_id}`. The runs list shows every stored run.",
                     "`{run_id}` 실행이 없습니다. 저장된 실행은 실행 목록에 있습니다."),
    "error.no_session": ("No calls are recorded for session `{session}`.",
                         "`{session}` 세션에 기록된 호출이 없습니다."),
    "error.no_page": ("There is no page at {path}.", "{path} 페이지가 없습니다."),
    "error.unavailable": ("Cannot show this", "표시할 수 없음"),
    "error.server": ("Something went wrong", "문제가 발생했습니다"),
    "error.server_detail": ("The dashboard hit an unexpected error; the terminal running `gensandbox ui` has "
                            "the details.",
                            "대시보드에 예기치 않은 오류가 발생했습니다; `gensandbox ui`를 실행한 터미널에 "
                            "자세한 내용이 있습니다."),
    "error.back": ("Back to the runs", "실행 목록으로"),
}


def t(lang: str, key: str, **fmt) -> str:
    """The string for `key` in `lang` (English when the language is unknown), formatted with `fmt`."""
    english, korean = STRINGS[key]
    text = korean if lang == "ko" else english
    return text.format(**fmt) if fmt else text


def label(lang: str, prefix: str, value: str) -> str:
    """A stored value (a run status, a record kind) in the reader's language, or as it is if we have no word."""
    key = f"{prefix}.{value}"
    return t(lang, key) if key in STRINGS else value


def choose_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """An explicit ?lang= wins, then the remembered choice, then the browser's first preference of ours."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    return preferred_language(accept_language or "")


def preferred_language(header: str) -> str:
    """The first language in Accept-Language order (by q, then position) that we speak."""
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:  # q=0 means "not this one"
            ranked.append((-quality, position, tag.split("-")[0].lower()))
    for _, _, primary in sorted(ranked):
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def _merge_workbench() -> None:
    from gensandbox.ui.text_workbench import WORKBENCH_STRINGS

    clash = set(STRINGS) & set(WORKBENCH_STRINGS)
    assert not clash, f"strings defined twice: {sorted(clash)}"
    STRINGS.update(WORKBENCH_STRINGS)


_merge_workbench()
