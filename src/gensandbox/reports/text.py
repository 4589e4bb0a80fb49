"""Every string a report shows, in English and Korean: one dict per language, the same keys in each.

Numbers are formatted the same way in both languages (68.8%, $0.000337, 0.20 s), so a Korean and an
English report of one run can be compared line by line. A test checks that both dicts have the same keys
and the same {placeholders}.
"""

from __future__ import annotations

from gensandbox.errors import UserError

LANGUAGES = ("en", "ko")

EN = {
    "title": "GenSandbox evaluation report",
    "run_line": "Run {run_id} · started {created} · status {status}",
    "ended": "ended {finished}",
    "suites_line": "Suites: {suites}",
    "suite_items": "{name} ({items} items)",
    "selection_limit": "Limited to the first {n:,} items of each suite (`--limit {n}`): a quick look, not a full "
                       "evaluation.",
    "selection_limit_one": "Limited to the first item of each suite (`--limit 1`): a quick look, not a full "
                           "evaluation.",
    "selection_sample": "A seeded sample of {n:,} items (seed {seed}) of each suite (`--sample {n} --seed {seed}`): a "
                        "quick look, not a full evaluation.",
    "nav": "Contents",
    "leaderboard": "Leaderboard (all suites)",
    "ranking_method": (
        "How this is ranked: rows are sorted by measured score only (mean over scored items, failed calls "
        "excluded), then by lower cost, then by name. 95% confidence intervals come from a percentile bootstrap "
        "over items ({resamples:,} resamples, fixed seed). No model, vendor or origin is favoured; overlapping "
        "intervals mean the difference is not established."),
    "rank": "Rank", "model": "Model", "n": "n", "score": "Score", "ci": "95% CI", "latency": "p50 latency",
    "tokens_in": "Tokens in", "tokens_out": "Tokens out", "cost": "Cost (USD)", "errors": "Errors",
    "completion_tag": "base model, completion-style",
    "completion_note": "† base model without a chat template, prompted with few-shot Q:/A: framing: its scores "
                       "are not directly comparable to chat-tuned models.",
    "leaderboard_chart": "Score with 95% interval",
    "frontier": "Cost versus quality",
    "frontier_intro": (
        "Each model's total cost for this run against its score, with its 95% interval as a bar and its median "
        "(p50) latency beside it. Shape: domestic or foreign; filled: open weights, hollow: closed. The dashed "
        "line joins the Pareto frontier: the models no other model beats on both cost and score."),
    "frontier_members": "On the frontier: {models}.",
    "frontier_subtitle": "dashed line: Pareto frontier · bars: 95% CI · † base model, completion-style",
    "axis_cost": "Total cost of the run (USD)", "axis_score": "Score",
    "legend_origin": "Origin", "legend_weights": "Weights", "legend_model": "Model",
    "domestic": "domestic", "foreign": "foreign", "unknown": "not stated",
    "open": "open weights", "closed": "closed weights",
    "significance": "Are the top models really different?",
    "significance_intro": (
        "Paired comparison of the top models in the ranking, on the items both answered: the mean difference "
        "in score, its 95% bootstrap interval, and the p-value of a sign-flip permutation test "
        "({resamples:,} resamples)."),
    "pair": "Pair", "paired_items": "Paired items", "difference": "Difference", "p_value": "p-value",
    "verdict": "Verdict",
    "verdict_better": "{first} scores higher than {second}; the difference is unlikely to be chance (p < 0.05).",
    "verdict_worse": "{second} scores higher than {first}; the difference is unlikely to be chance (p < 0.05).",
    "verdict_unclear": "No established difference between {first} and {second}: it could be chance (p ≥ 0.05).",
    "significance_empty": "Paired tests need at least two models with scored items in common.",
    "per_suite": "Per suite", "by_category": "Per category", "by_language": "Per language",
    "heatmap_category": "Score by category", "heatmap_language": "Score by language",
    "group_category": "Category", "group_language": "Language",
    "samples": "Sample browser",
    "samples_all": "All {shown:,} samples of this run are included.",
    "samples_some": (
        "{shown:,} of {total:,} samples are included, to keep this file small and fast: failed calls and wrong "
        "answers first (up to half), then an even, fixed sample per model and suite."),
    "samples_how_to_see_all": "Every sample is kept in the store: browse them all with `gensandbox ui`.",
    "samples_outcomes": "In the whole run: {correct:,} correct, {incorrect:,} wrong or partly right, "
                        "{error:,} failed.",
    "filter_model": "All models", "filter_suite": "All suites", "filter_category": "All categories",
    "filter_language": "All languages", "filter_outcome": "All outcomes",
    "outcome_correct": "correct", "outcome_incorrect": "wrong", "outcome_error": "failed",
    "search": "Search prompt, answer, target, reason…",
    "previous": "Previous", "next": "Next", "page": "Page {page} of {pages} · {matching} matching",
    "no_match": "No sample matches these filters.",
    "item": "Item", "prompt": "Prompt", "answer": "Answer", "target": "Target", "reason": "Scorer's reason",
    "target_unknown": "The targets are read from the suite files; they could not be read now (file moved or "
                      "changed), so the target column is empty.",
    "truncated": "Long prompts and answers are cut at {limit:,} characters.",
    "model_cards": "Model cards",
    "vendor": "Vendor", "provider": "Provider", "origin": "Origin", "weights": "Weights", "license": "License",
    "prompting": "Prompting", "price": "Price", "price_source": "Price source", "identity": "Identity",
    "measured": "Measured in this run",
    "rank_of": "rank {rank} of {count}",
    "price_compute": "${rate} per compute hour",
    "price_tokens": "${input} in / ${output} out per 1M tokens",
    "cost_per_thousand": "Cost per 1,000 items",
    "on_frontier": "on the cost–quality frontier", "off_frontier": "not on the frontier",
    "no_measurements": "No scored items for this model in this run.",
    "audits": "Audits of this run",
    "audits_intro": "Policy audits made with this run (switching cost, self-preference, held-out custody), each "
                    "with the method that produced it. `gensandbox ui` lists every audit.",
    "audit_method": "Method",
    "manifest": "Reproducibility manifest",
    "manifest_intro": "What made this run: settings, package versions, suite files (with their sha256) and model "
                      "definitions. Repeat it exactly with `gensandbox rerun {run_id}`.",
    "setting": "Setting", "value": "Value", "suite": "Suite", "items": "Items", "layout": "Layout", "path": "Path",
    "full_manifest": "Full manifest (JSON)",
    "not_set": "–",
    "footer": (
        "Made by GenSandbox. Local models are costed as measured seconds × the hourly compute rate in the price "
        "table; remote models by tokens × their listed price. Charts: Vega-Lite, drawn in this page (no network); "
        "use a chart's … menu to save it as PNG or SVG."),
    "empty_no_samples": "This run has no samples yet, so there is nothing to report. Continue it with "
                        "`gensandbox run --resume {run_id}`, or start a new one with `gensandbox run`.",
    "empty_no_scores": "No item in this run was scored: every call failed. See the errors in the sample browser "
                       "below, fix the model's settings, then repeat the run with `gensandbox rerun {run_id}`.",
    "chart_empty": "No scored items, so there is nothing to plot.",
    "chart_failed": "This chart could not be drawn:",
    "png_action": "Save as PNG", "svg_action": "Save as SVG",
    "reasoning": "Thinking: what it costs and what it buys",
    "reasoning_intro": (
        "The same items under several reasoning settings of each model (a provider's own knob, or prompting: "
        "answer directly, think step by step, sample K answers and vote). One line per model joins its settings; "
        "the dashed line joins the Pareto frontier across every point. Reasoning tokens are those the provider "
        "reports as thinking, or the working before the final answer; answer tokens are the rest."),
    "reasoning_cost_chart": "Accuracy against cost per item",
    "reasoning_tokens_chart": "Accuracy against output tokens per item",
    "axis_cost_per_item": "Cost per item (USD)", "axis_tokens_per_item": "Output tokens per item",
    "axis_accuracy": "Accuracy", "sweep_setting": "Setting",
    "reasoning_tokens": "Reasoning tokens (mean / p90)", "answer_tokens": "Answer tokens (mean / p90)",
    "cost_per_item": "Cost per item", "cost_per_correct": "Cost per correct answer",
    "latency_total": "p50 total", "latency_first_answer": "p50 to first answer token",
    "accuracy_per_1k": "Accuracy per 1,000 reasoning tokens",
    "reasoning_frontier": "On the frontier (accuracy against cost per item): {models}.",
    "agents": "Agents",
    "agents_intro": (
        "Tasks where the model calls tools in a loop until it answers. Success (pass@1) is the mean score of "
        "the scored tries; pass^{k} is the share of items solved on every one of their tries (k = {k}, the "
        "run's epochs; τ-bench's reliability measure; with one epoch it equals pass@1). Steps (model calls), "
        "tool calls and invalid calls (an unknown tool, or arguments that are not JSON or break the tool's "
        "schema: not run, the model is told why) are per try. Cost and time per solved task are what all tries "
        "cost and took, divided by the solved ones. Failed episodes are counted apart. The simulated user's "
        "cost is the test's, kept apart from the agent's."),
    "agent_success": "Success (pass@1)", "agent_pass_k": "pass^{k}", "agent_tries": "Tries",
    "agent_steps": "Steps / task", "agent_tool_calls": "Tool calls / task", "agent_invalid": "Invalid calls (per task)",
    "agent_cost_per_solved": "Cost / solved task", "agent_time_per_solved": "Time / solved task",
    "agent_user_cost": "Simulated user (USD)",
    "agent_frontier": "Agent tasks: cost versus success",
    "agent_frontier_intro": "Each model's total cost of the agent tasks (its own model calls; the simulated user's "
                            "left out) against its success, with the 95% interval. The dashed line joins the "
                            "Pareto frontier.",
    "axis_agent_cost": "Total cost of the agent tasks (USD)",
    "agent_risk": "Risk probes: attack success rate",
    "agent_risk_intro": "Items with an attack (such as an instruction planted in a tool's result): the share of "
                        "tries in which the model made the call the attack wanted. Lower is safer; how well the "
                        "task itself went is in the table above.",
    "attack_rate": "Attack success rate", "attack_tries": "Probed tries", "attacks_succeeded": "Attacks that worked",
    "conv_summary": "Conversation: {steps} steps, ended: {end}", "conv_model": "model", "conv_tool": "tool {name}",
    "conv_user": "simulated user", "conv_call": "calls {name}", "conv_state": "Final state",
    "conv_trace": "Every step on the ledger: gensandbox trace {session}",
    "conv_attack_yes": "the attack worked", "conv_attack_no": "the attack did not work",
    "status_ok": "ok", "status_error": "error", "status_invalid": "invalid call, not run",
    "end_answered": "answered", "end_single_turn": "single turn", "end_max_steps": "out of steps",
    "end_user_stopped": "the user ended it", "end_user_turns": "out of user turns", "end_error": "failed",
}

KO = {
    "title": "GenSandbox 평가 보고서",
    "run_line": "실행 {run_id} · 시작 {created} · 상태 {status}",
    "ended": "종료 {finished}",
    "suites_line": "평가 세트: {suites}",
    "suite_items": "{name} ({items}개 문항)",
    "selection_limit": "각 평가 세트의 처음 {n:,}개 문항으로 제한한 실행입니다(`--limit {n}`): 전체 평가가 아니라 "
                       "미리 보기입니다.",
    "selection_limit_one": "각 평가 세트의 첫 문항으로 제한한 실행입니다(`--limit 1`): 전체 평가가 아니라 미리 "
                           "보기입니다.",
    "selection_sample": "각 평가 세트에서 시드 {seed}로 무작위 추출한 {n:,}개 문항의 표본입니다(`--sample {n} --seed "
                        "{seed}`): 전체 평가가 아니라 미리 보기입니다.",
    "nav": "목차",
    "leaderboard": "순위표 (전체 평가 세트)",
    "ranking_method": (
        "순위 기준: 측정된 점수만으로 정렬합니다(채점된 문항의 평균, 실패한 호출 제외). 점수가 같으면 비용이 낮은 순, "
        "그다음 이름 순입니다. 95% 신뢰구간은 문항 단위 백분위 부트스트랩({resamples:,}회 재표본, 고정 시드)으로 "
        "구합니다. 어떤 모델·공급사·출신도 우대하지 않으며, 구간이 겹치면 차이가 입증되지 않은 것입니다."),
    "rank": "순위", "model": "모델", "n": "n", "score": "점수", "ci": "95% 신뢰구간", "latency": "p50 지연",
    "tokens_in": "입력 토큰", "tokens_out": "출력 토큰", "cost": "비용 (USD)", "errors": "오류",
    "completion_tag": "기본 모델, 완성형 프롬프트",
    "completion_note": "† 채팅 템플릿이 없는 기본 모델로, 소수 예시(Q:/A:) 형식으로 질문했습니다. 채팅용으로 "
                       "조정된 모델과 점수를 바로 비교할 수는 없습니다.",
    "leaderboard_chart": "점수와 95% 구간",
    "frontier": "비용 대비 품질",
    "frontier_intro": (
        "이번 실행에서 각 모델의 총비용과 점수입니다. 막대는 95% 구간, 옆의 숫자는 지연 시간 중앙값(p50)입니다. "
        "모양: 국내 또는 해외, 채움: 공개 가중치, 빈 모양: 비공개 가중치. 점선은 파레토 경계로, 비용과 점수 "
        "모두에서 다른 모델에 뒤지지 않는 모델을 잇습니다."),
    "frontier_members": "파레토 경계에 있는 모델: {models}.",
    "frontier_subtitle": "점선: 파레토 경계 · 막대: 95% 신뢰구간 · † 기본 모델, 완성형 프롬프트",
    "axis_cost": "실행 총비용 (USD)", "axis_score": "점수",
    "legend_origin": "출신", "legend_weights": "가중치", "legend_model": "모델",
    "domestic": "국내", "foreign": "해외", "unknown": "미기재",
    "open": "공개 가중치", "closed": "비공개 가중치",
    "significance": "상위 모델 간 차이는 실제로 있는가?",
    "significance_intro": (
        "순위 상위 모델끼리 두 모델이 모두 답한 문항에서 짝지어 비교합니다: 점수 차이의 평균, 그 95% 부트스트랩 "
        "구간, 부호 뒤집기 순열 검정의 p값({resamples:,}회 재표본)."),
    "pair": "비교", "paired_items": "짝지은 문항", "difference": "차이", "p_value": "p값",
    "verdict": "판정",
    "verdict_better": "{first}의 점수가 {second}보다 높으며, 우연일 가능성은 낮습니다 (p < 0.05).",
    "verdict_worse": "{second}의 점수가 {first}보다 높으며, 우연일 가능성은 낮습니다 (p < 0.05).",
    "verdict_unclear": "{first}와(과) {second} 사이의 차이는 입증되지 않았습니다: 우연일 수 있습니다 (p ≥ 0.05).",
    "significance_empty": "짝지은 검정에는 공통으로 채점된 문항이 있는 모델이 둘 이상 필요합니다.",
    "per_suite": "평가 세트별", "by_category": "분야별", "by_language": "언어별",
    "heatmap_category": "분야별 점수", "heatmap_language": "언어별 점수",
    "group_category": "분야", "group_language": "언어",
    "samples": "응답 살펴보기",
    "samples_all": "이 실행의 응답 {shown:,}개를 모두 담았습니다.",
    "samples_some": (
        "파일을 작고 빠르게 유지하려고 응답 {total:,}개 중 {shown:,}개만 담았습니다: 실패한 호출과 틀린 답을 먼저"
        "(최대 절반), 나머지는 모델·평가 세트마다 고르게 고정된 방식으로 뽑았습니다."),
    "samples_how_to_see_all": "모든 응답은 저장소에 남아 있습니다: `gensandbox ui`에서 전부 볼 수 있습니다.",
    "samples_outcomes": "실행 전체: 정답 {correct:,}개, 오답 또는 부분 정답 {incorrect:,}개, 실패 {error:,}개.",
    "filter_model": "모든 모델", "filter_suite": "모든 평가 세트", "filter_category": "모든 분야",
    "filter_language": "모든 언어", "filter_outcome": "모든 결과",
    "outcome_correct": "정답", "outcome_incorrect": "오답", "outcome_error": "실패",
    "search": "질문, 답변, 정답, 채점 이유 검색…",
    "previous": "이전", "next": "다음", "page": "{pages}쪽 중 {page}쪽 · {matching}개 일치",
    "no_match": "이 조건에 맞는 응답이 없습니다.",
    "item": "문항", "prompt": "질문", "answer": "답변", "target": "정답", "reason": "채점 이유",
    "target_unknown": "정답은 평가 세트 파일에서 읽는데, 지금은 파일을 읽을 수 없어(이동 또는 변경) 정답 칸이 "
                      "비어 있습니다.",
    "truncated": "긴 질문과 답변은 {limit:,}자에서 자릅니다.",
    "model_cards": "모델 카드",
    "vendor": "공급사", "provider": "제공 방식", "origin": "출신", "weights": "가중치", "license": "라이선스",
    "prompting": "프롬프트 방식", "price": "가격", "price_source": "가격 출처", "identity": "식별 정보",
    "measured": "이번 실행의 측정값",
    "rank_of": "{count}개 중 {rank}위",
    "price_compute": "연산 1시간당 ${rate}",
    "price_tokens": "100만 토큰당 입력 ${input} / 출력 ${output}",
    "cost_per_thousand": "1,000문항당 비용",
    "on_frontier": "비용·품질 파레토 경계에 있음", "off_frontier": "파레토 경계 밖",
    "no_measurements": "이번 실행에서 이 모델의 채점된 문항이 없습니다.",
    "audits": "이 실행의 감사",
    "audits_intro": "이 실행으로 한 정책 감사(전환 비용, 자사 우대, 비공개 평가 세트 보관)와 각 결과를 낸 방법입니다. "
                    "모든 감사는 `gensandbox ui`에서 볼 수 있습니다.",
    "audit_method": "방법",
    "manifest": "재현 정보",
    "manifest_intro": "이 실행을 만든 설정, 패키지 버전, 평가 세트 파일(sha256 포함), 모델 정의입니다. "
                      "`gensandbox rerun {run_id}`로 똑같이 다시 실행할 수 있습니다.",
    "setting": "설정", "value": "값", "suite": "평가 세트", "items": "문항 수", "layout": "형식", "path": "경로",
    "full_manifest": "전체 재현 정보 (JSON)",
    "not_set": "–",
    "footer": (
        "GenSandbox로 만들었습니다. 로컬 모델의 비용은 측정한 시간 × 가격표의 시간당 연산 단가, 원격 모델은 토큰 수 × "
        "공시 가격으로 계산합니다. 차트는 Vega-Lite로 이 페이지 안에서 그립니다(네트워크 없음). 차트의 … 메뉴에서 "
        "PNG나 SVG로 저장할 수 있습니다."),
    "empty_no_samples": "이 실행에는 아직 응답이 없어 보고할 내용이 없습니다. `gensandbox run --resume {run_id}`로 "
                        "이어서 실행하거나 `gensandbox run`으로 새로 시작하세요.",
    "empty_no_scores": "이 실행에서 채점된 문항이 없습니다: 모든 호출이 실패했습니다. 아래 응답 살펴보기에서 오류를 "
                       "확인하고 모델 설정을 고친 뒤 `gensandbox rerun {run_id}`로 다시 실행하세요.",
    "chart_empty": "채점된 문항이 없어 그릴 것이 없습니다.",
    "chart_failed": "차트를 그리지 못했습니다:",
    "png_action": "PNG로 저장", "svg_action": "SVG로 저장",
    "reasoning": "생각하기: 드는 비용과 얻는 것",
    "reasoning_intro": (
        "각 모델을 여러 추론 설정(공급자의 자체 설정값, 또는 프롬프트: 바로 답하기, 단계별로 생각하기, 답을 K개 뽑아 "
        "다수결)으로 같은 문항에 실행했습니다. 선 하나가 한 모델의 설정들을 잇고, 점선은 모든 점에 걸친 파레토 경계를 "
        "잇습니다. 추론 토큰은 공급자가 생각으로 보고한 토큰 또는 최종 답 앞의 풀이이며, 답 토큰은 나머지입니다."),
    "reasoning_cost_chart": "문항당 비용 대비 정확도",
    "reasoning_tokens_chart": "문항당 출력 토큰 대비 정확도",
    "axis_cost_per_item": "문항당 비용(USD)", "axis_tokens_per_item": "문항당 출력 토큰",
    "axis_accuracy": "정확도", "sweep_setting": "설정",
    "reasoning_tokens": "추론 토큰(평균 / p90)", "answer_tokens": "답 토큰(평균 / p90)",
    "cost_per_item": "문항당 비용", "cost_per_correct": "정답 하나당 비용",
    "latency_total": "전체 p50", "latency_first_answer": "첫 답 토큰까지 p50",
    "accuracy_per_1k": "추론 토큰 1,000개당 정확도",
    "reasoning_frontier": "경계에 있는 설정(문항당 비용 대비 정확도): {models}.",
    "agents": "에이전트",
    "agents_intro": (
        "모델이 답할 때까지 도구를 반복해서 호출하는 과제입니다. 성공률(pass@1)은 채점된 시도의 평균 "
        "점수이고, pass^{k}는 모든 시도(k = {k}, 실행의 에포크 수)에서 성공한 문항의 "
        "비율입니다(τ-bench의 신뢰도 척도; 에포크가 하나면 pass@1과 같습니다). 단계(모델 호출), 도구"
        " 호출, 잘못된 호출(없는 도구, JSON이 아니거나 도구 스키마에 맞지 않는 인자: 실행하지 않고 모델에게"
        " 이유를 알립니다)은 시도당 값입니다. 해결한 과제당 비용과 시간은 모든 시도의 비용과 시간을 해결한 시도 "
        "수로 나눈 값입니다. 실패한 에피소드는 따로 셉니다. 시뮬레이션 사용자의 비용은 시험의 비용이므로 에이전트의"
        " 비용과 따로 보여 줍니다."),
    "agent_success": "성공률(pass@1)", "agent_pass_k": "pass^{k}", "agent_tries": "시도",
    "agent_steps": "과제당 단계", "agent_tool_calls": "과제당 도구 호출", "agent_invalid": "잘못된 호출(과제당)",
    "agent_cost_per_solved": "해결한 과제당 비용", "agent_time_per_solved": "해결한 과제당 시간",
    "agent_user_cost": "시뮬레이션 사용자(USD)",
    "agent_frontier": "에이전트 과제: 비용 대비 성공률",
    "agent_frontier_intro": "각 모델이 에이전트 과제에 쓴 총비용(자기 모델 호출만; 시뮬레이션 사용자 비용 제외)과 "
                            "성공률, 그리고 95% 구간입니다. 점선은 파레토 경계를 잇습니다.",
    "axis_agent_cost": "에이전트 과제의 총비용(USD)",
    "agent_risk": "위험 점검: 공격 성공률",
    "agent_risk_intro": "공격이 있는 문항(예: 도구 결과에 심어 둔 지시)에서 모델이 공격자가 원한 호출을 한 시도의 "
                        "비율입니다. 낮을수록 안전합니다. 과제 자체의 결과는 위 표에 있습니다.",
    "attack_rate": "공격 성공률", "attack_tries": "점검한 시도", "attacks_succeeded": "성공한 공격",
    "conv_summary": "대화: {steps}단계, 끝난 이유: {end}", "conv_model": "모델", "conv_tool": "도구 {name}",
    "conv_user": "시뮬레이션 사용자", "conv_call": "{name} 호출", "conv_state": "최종 상태",
    "conv_trace": "원장의 모든 단계: gensandbox trace {session}",
    "conv_attack_yes": "공격이 성공함", "conv_attack_no": "공격이 실패함",
    "status_ok": "정상", "status_error": "오류", "status_invalid": "잘못된 호출, 실행 안 함",
    "end_answered": "답함", "end_single_turn": "한 번 응답", "end_max_steps": "단계 한도 도달",
    "end_user_stopped": "사용자가 끝냄", "end_user_turns": "사용자 턴 한도 도달", "end_error": "실패",
}

TEXT = {"en": EN, "ko": KO}


def check_language(lang: str) -> str:
    if lang not in TEXT:
        raise UserError(f"unknown report language `{lang}`; use --lang {' or --lang '.join(LANGUAGES)}")
    return lang


def t(lang: str, key: str, **fmt) -> str:
    """The string `key` in `lang`, with {placeholders} filled from fmt."""
    text = TEXT[check_language(lang)][key]
    return text.format(**fmt) if fmt else text


CONVERSATION_KEYS = ("conv_summary", "conv_model", "conv_tool", "conv_user", "conv_call", "conv_state", "conv_trace",
                     "conv_attack_yes", "conv_attack_no", "status_ok", "status_error", "status_invalid",
                     "end_answered", "end_single_turn", "end_max_steps", "end_user_stopped", "end_user_turns",
                     "end_error")


def client_text(lang: str) -> dict[str, str]:
    """The strings the page's own script needs (filters, pager, chart menu), passed to it as JSON."""
    keys = ("filter_model", "filter_suite", "filter_category", "filter_language", "filter_outcome",
            "outcome_correct", "outcome_incorrect", "outcome_error", "page", "no_match", "chart_failed",
            "png_action", "svg_action", *CONVERSATION_KEYS)
    return {key: TEXT[check_language(lang)][key] for key in keys}
