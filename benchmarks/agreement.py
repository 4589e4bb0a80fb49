"""Agreement: does GenSandbox score like lm-evaluation-harness, and like a careful human grader?

The same items, scored by GenSandbox and by lm-evaluation-harness 0.4.13 (`local-chat-completions`), with the
same scripted replies from one loopback upstream:

  * 56 KMMLU-style four-option multiple-choice items (36 Korean, 20 English);
  * 20 short-answer items (exact match) and 10 numeric ones, Korean and English.

The upstream (an OpenAI-compatible chat-completions server on 127.0.0.1, started by this script) finds the item
whose question is in the prompt and returns that item's scripted reply, whichever tool asks. Like any
OpenAI-compatible server it honours the request's `stop` sequences (the reply ends before the first one), so each
tool sees what a real model would have returned to its own request; GenSandbox sends none.

The replies are written in the styles real models use: a bare letter ("B", "b", "(C)", "**B**"), the letter and
the option's text ("B. 세종"), a sentence ("정답은 B입니다.", "The answer is (d).", "Answer: B"), an option number
("2번", "③", "2", "Option 4."), the option's text only, reasoning that names other letters before its final
answer, a hedge ("C 또는 D인 것 같습니다.") and refusals ("모르겠습니다.", "A definite answer is not possible…").
For each reply the script decides which option it chooses, or that it gives no answer, as a careful human grader
would (the last explicit "answer is X" wins over letters named while reasoning; a hedge is no answer), so the
TRUE accuracy is known. Short answers carry the same grader's verdict.

lm-eval runs the tasks it ships, rebuilt over this data (nothing else changed):
  * `kmmlu direct` (lm_eval/tasks/kmmlu/direct): exact_match on the whole generation, no answer extraction,
    stop sequences "Q:", "\\n\\n", "</s>", ".";
  * `kormedmcqa` (lm_eval/tasks/kormedmcqa), lm-eval's Korean generative multiple choice with an answer-extraction
    cascade (its ExtractChoiceFilter, imported from the installed package), stop sequences "Q:", "</s>",
    "<|im_end|>", ".";
  * short answers as `triviaqa` (stop at "\\n", ".", ","; remove_whitespace; exact_match ignoring case and
    punctuation) and numbers as `gsm8k`'s "flexible-extract" (the last number; exact_match ignoring "," "$").

    .venv/bin/python benchmarks/agreement.py [--only gensandbox|lmeval] [--ignore-stop] [--keep]

Prints the accuracies beside the truth and every item where a scorer disagrees with the truth, with the reply;
exits 1 when GenSandbox disagrees with the truth on any item (or a tool fails). The peers live in
benchmarks/.venv-peers (created from benchmarks/peers/requirements.txt when missing); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sqlite3
import string
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from peers_env import PEERS_VENV, PROJECT, ensure_peers_venv, tail
from runner_overhead import offline_env, write_jsonl

GENSANDBOX = PROJECT / ".venv" / "bin" / "gensandbox"
LMEVAL = PEERS_VENV / "bin" / "lm-eval"
LETTERS = "ABCD"
CIRCLED = "①②③④"

# ---- The items and their scripted replies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A four-option item; `chosen` is the option the reply picks (None: no answer), `mention` the hedge's letters."""

    id: str
    language: str
    category: str
    stem: str
    options: tuple[str, str, str, str]
    answer: str
    style: str
    chosen: str | None
    mention: str = ""

    @property
    def kind(self) -> str:
        return f"choice-{self.language}"

    @property
    def key(self) -> str:
        return self.stem

    @property
    def correct(self) -> bool:
        return self.chosen == self.answer

    @property
    def truth(self) -> str:
        if self.chosen is None:
            return "no answer"
        return f"{self.chosen} ({'correct' if self.correct else f'wrong; answer {self.answer}'})"

    @property
    def reply(self) -> str:
        if self.chosen is None:
            first, second = (self.mention + "  ")[:2]
            return NO_ANSWER_STYLES[self.style].format(H1=first, H2=second)
        index = LETTERS.index(self.chosen)
        others = [letter for letter in LETTERS if letter != self.chosen]
        return CHOICE_STYLES[self.style].format(
            L=self.chosen, l=self.chosen.lower(), n=index + 1, T=self.options[index], C=CIRCLED[index],
            W1=others[0], W2=others[1])


CHOICE_STYLES = {
    "letter": "{L}",
    "lower": "{l}",
    "paren": "({L})",
    "bold": "**{L}**",
    "letter-text": "{L}. {T}",
    "letter-paren-text": "{L}) {T}",
    "ko-sentence": "정답은 {L}입니다.",
    "ko-short": "{L}입니다.",
    "ko-colon": "정답: {L}",
    "ko-text-sentence": "정답은 {T}입니다.",
    "ko-number": "{n}번",
    "ko-number-sentence": "정답은 {n}번입니다.",
    "circled": "{C}",
    "ko-circled-sentence": "답은 {C}입니다.",
    "number": "{n}",
    "ko-reasoning": "{W1}는 문제의 조건에 맞지 않아 틀렸고, {W2}도 옳지 않습니다. 따라서 정답은 {L}입니다.",
    "ko-reasoning-lines": "각 선택지를 살펴보겠습니다.\n\n{W1}: 해당하지 않습니다.\n{W2}: 해당하지 않습니다.\n\n"
                          "따라서 정답은 {L}입니다.",
    "ko-not-other": "{W1}가 아니라 {L}입니다.",
    "ko-correction": "처음에는 {W1}라고 생각했지만, 정답은 {L}입니다.",
    "en-sentence": "The answer is ({l}).",
    "en-colon": "Answer: {L}",
    "en-option-number": "Option {n}.",
    "en-reasoning": "{W1} is wrong because it does not fit the question; {W2} is also incorrect. So the answer is {L}.",
    "en-reasoning-comma": "{W1} and {W2} do not fit, so the answer is {L}.",
    "en-not-other": "It's {L}, not {W1}.",
    "en-correction": "I first thought {W1}, but the answer is {L}.",
    "en-answer-then-aside": "The answer is {L}. {W1} would only be right for a different question.",
    "text": "{T}",
}
NO_ANSWER_STYLES = {
    "ko-hedge": "{H1} 또는 {H2}인 것 같습니다.",
    "ko-hedge-unsure": "{H1}와 {H2} 중 하나 같지만 확신이 없습니다.",
    "ko-refusal": "모르겠습니다.",
    "en-hedge": "{H1} or {H2}",
    "en-refusal": "I'm not sure.",
    "en-refusal-article": "A definite answer is not possible from the information given.",
}


def K(n, category, stem, options, answer, style, chosen, mention=""):  # noqa: N802 - a table row, read as one
    return Choice(f"ko-mc-{n:02d}", "ko", category, stem, tuple(options), answer, style, chosen, mention)


def E(n, category, stem, options, answer, style, chosen, mention=""):  # noqa: N802
    return Choice(f"en-mc-{n:02d}", "en", category, stem, tuple(options), answer, style, chosen, mention)


# Items whose options are numbers get no option-number replies: "2" would be ambiguous there.
CHOICES = [
    K(1, "한국사", "훈민정음을 반포한 조선의 왕은?", ["태조", "세종", "세조", "정조"], "B", "letter", "B"),
    K(2, "지리", "대한민국에서 가장 높은 산은?", ["설악산", "지리산", "한라산", "북한산"], "C", "lower", "C"),
    K(3, "경제", "수요의 가격탄력성이 1보다 큰 재화의 수요를 무엇이라 하는가?",
      ["비탄력적 수요", "단위탄력적 수요", "완전비탄력적 수요", "탄력적 수요"], "D", "paren", "D"),
    K(4, "회계", "회계등식에서 자산은 부채와 무엇의 합인가?",
      ["자본", "수익", "비용", "매출원가"], "A", "letter-text", "A"),
    K(5, "화학", "물의 화학식은 무엇인가?", ["CO2", "H2O", "NaCl", "O2"], "B", "ko-sentence", "B"),
    K(6, "컴퓨터", "먼저 들어온 데이터가 먼저 나가는(FIFO) 자료구조는?",
      ["스택", "큐", "트리", "그래프"], "B", "ko-sentence", "C"),
    K(7, "법", "대한민국 헌법상 국회의원의 임기는?", ["2년", "4년", "5년", "6년"], "B", "ko-colon", "B"),
    K(8, "생물", "광합성이 일어나는 세포 소기관은?",
      ["미토콘드리아", "리보솜", "엽록체", "골지체"], "C", "ko-number", "C"),
    K(9, "물리", "힘의 SI 단위는?", ["줄", "와트", "파스칼", "뉴턴"], "D", "circled", "D"),
    K(10, "지리", "남한에서 가장 긴 강은?", ["한강", "낙동강", "금강", "영산강"], "B", "number", "B"),
    K(11, "한국사", "임진왜란이 일어난 해는?", ["1392년", "1592년", "1636년", "1910년"], "B", "ko-reasoning", "B"),
    K(12, "수학", "2의 10제곱은?", ["512", "1000", "1024", "2048"], "C", "letter-paren-text", "C"),
    K(13, "경제", "한국은행의 기준금리를 결정하는 기구는?",
      ["금융위원회", "기획재정부", "금융통화위원회", "국회"], "C", "text", "C"),
    K(14, "회계", "감가상각의 대상이 아닌 자산은?",
      ["건물", "기계장치", "토지", "차량운반구"], "C", "ko-hedge", None, "CD"),
    K(15, "컴퓨터", "IPv4 주소는 몇 비트로 이루어지는가?",
      ["16비트", "32비트", "64비트", "128비트"], "B", "ko-short", "B"),
    K(16, "법", "민법상 성년이 되는 나이는?", ["18세", "19세", "20세", "21세"], "B", "ko-refusal", None),
    K(17, "화학", "원자번호 6번 원소는?", ["수소", "헬륨", "탄소", "산소"], "C", "ko-number", "B"),
    K(18, "생물", "사람의 체세포 하나에 들어 있는 염색체 수는?",
      ["23개", "44개", "46개", "48개"], "C", "ko-not-other", "C"),
    K(19, "지구과학", "태양계에서 가장 큰 행성은?", ["지구", "토성", "목성", "해왕성"], "C", "ko-number-sentence", "C"),
    K(20, "한국사", "고려를 건국한 인물은?", ["왕건", "이성계", "궁예", "견훤"], "A", "ko-circled-sentence", "A"),
    K(21, "문학", "시집 '님의 침묵'을 쓴 시인은?", ["김소월", "한용운", "윤동주", "이육사"], "B", "ko-reasoning", "D"),
    K(22, "경영", "SWOT 분석에서 T가 뜻하는 것은?", ["강점", "약점", "기회", "위협"], "D", "text", "C"),
    K(23, "컴퓨터", "HTTP의 기본 포트 번호는?", ["21", "22", "80", "443"], "C", "text", "C"),
    K(24, "물리", "진공에서 빛의 속력에 가장 가까운 값은?",
      ["약 30만 km/s", "약 3만 km/s", "약 340 m/s", "약 3억 km/s"], "A", "letter-text", "C"),
    K(25, "경제", "국내총생산을 뜻하는 약어는?", ["GNP", "GDP", "GNI", "CPI"], "B", "bold", "B"),
    K(26, "법", "민사·형사 재판의 최종심을 맡는 법원은?",
      ["지방법원", "고등법원", "대법원", "헌법재판소"], "C", "ko-text-sentence", "C"),
    K(27, "한국사", "3·1 운동이 일어난 해는?", ["1910년", "1919년", "1945년", "1950년"], "B", "ko-hedge", None, "AB"),
    K(28, "화학", "25℃에서 pH가 7인 수용액의 성질은?", ["강산성", "약산성", "중성", "염기성"], "C", "lower", "D"),
    K(29, "회계", "재무상태표에 표시되지 않는 항목은?",
      ["현금", "매출액", "차입금", "자본금"], "B", "ko-reasoning-lines", "B"),
    K(30, "지리", "제주특별자치도의 도청 소재지는?", ["서귀포시", "제주시", "한림읍", "성산읍"], "B", "circled", "A"),
    K(31, "컴퓨터", "이진수 1010을 십진수로 나타내면?", ["8", "10", "12", "5"], "B", "ko-correction", "B"),
    K(32, "생물", "인슐린을 분비하는 기관은?", ["간", "이자(췌장)", "신장", "위"], "B", "ko-number", "B"),
    K(33, "경영", "마케팅 믹스(4P)에 속하지 않는 것은?",
      ["제품", "가격", "유통", "인사"], "D", "ko-hedge-unsure", None, "AD"),
    K(34, "문학", "'홍길동전'의 작가로 알려진 인물은?",
      ["허균", "김만중", "박지원", "정약용"], "A", "ko-sentence", "A"),
    K(35, "통계", "자료를 크기순으로 늘어놓았을 때 한가운데 있는 값은?",
      ["평균", "중앙값", "최빈값", "분산"], "B", "number", "C"),
    K(36, "물리", "소리가 전달되지 않는 곳은?", ["물", "공기", "철", "진공"], "D", "letter", "A"),
    E(1, "astronomy", "Which planet is known as the Red Planet?",
      ["Venus", "Mars", "Jupiter", "Mercury"], "B", "letter", "B"),
    E(2, "chemistry", "What is the chemical symbol for gold?", ["Ag", "Au", "Gd", "Go"], "B", "en-sentence", "B"),
    E(3, "literature", "Who wrote the novel \"Pride and Prejudice\"?",
      ["Charlotte Brontë", "Jane Austen", "Mary Shelley", "George Eliot"], "B", "en-colon", "B"),
    E(4, "geography", "What is the largest ocean on Earth?",
      ["Atlantic", "Indian", "Arctic", "Pacific"], "D", "en-option-number", "D"),
    E(5, "biology", "Which gas do plants take in for photosynthesis?",
      ["Oxygen", "Nitrogen", "Carbon dioxide", "Helium"], "C", "en-reasoning", "C"),
    E(6, "accounting", "Which financial statement reports revenues and expenses over a period?",
      ["Balance sheet", "Income statement", "Cash flow statement", "Statement of changes in equity"],
      "B", "en-reasoning-comma", "B"),
    E(7, "computer science", "What is the time complexity of binary search on a sorted array?",
      ["O(1)", "O(log n)", "O(n)", "O(n log n)"], "B", "en-not-other", "B"),
    E(8, "history", "In which year was the Magna Carta sealed?",
      ["1066", "1215", "1492", "1776"], "B", "en-correction", "B"),
    E(9, "biology", "Which organ pumps blood through the body?",
      ["Liver", "Lungs", "Heart", "Kidney"], "C", "en-hedge", None, "BC"),
    E(10, "physics", "At what temperature in degrees Fahrenheit does water freeze at sea level?",
      ["0", "32", "100", "212"], "B", "text", "B"),
    E(11, "computer science", "Which data structure removes the most recently added element first?",
      ["Queue", "Stack", "Heap", "Hash table"], "B", "en-refusal", None),
    E(12, "geography", "Which country had the largest population in 2024?",
      ["China", "India", "United States", "Indonesia"], "B", "en-answer-then-aside", "B"),
    E(13, "geography", "What is the capital of Australia?",
      ["Sydney", "Melbourne", "Canberra", "Perth"], "C", "text", "C"),
    E(14, "chemistry", "Which element has atomic number 1?",
      ["Helium", "Hydrogen", "Lithium", "Oxygen"], "B", "en-sentence", "A"),
    E(15, "art", "Who painted the Mona Lisa?",
      ["Michelangelo", "Raphael", "Leonardo da Vinci", "Donatello"], "C", "letter-text", "C"),
    E(16, "economics", "Which index measures the average change in the prices that consumers pay?",
      ["PPI", "CPI", "GDP", "PMI"], "B", "number", "B"),
    E(17, "physics", "What is the SI unit of electric current?", ["Volt", "Ohm", "Ampere", "Watt"], "C", "lower", "C"),
    E(18, "law", "Which amendment to the U.S. Constitution protects freedom of speech?",
      ["First", "Second", "Fifth", "Tenth"], "A", "en-refusal-article", None),
    E(19, "mathematics", "What is the square root of 144?", ["11", "12", "13", "14"], "B", "paren", "C"),
    E(20, "computer science", "Which protocol do mail servers use to send email to each other?",
      ["FTP", "SMTP", "SSH", "DNS"], "B", "en-reasoning", "D"),
]


@dataclass(frozen=True)
class Short:
    """A short-answer item ("exact") or a number ("numeric") with its reply and the grader's verdict."""

    id: str
    language: str
    scorer: str
    question: str
    targets: tuple[str, ...]
    reply: str
    correct: bool

    @property
    def kind(self) -> str:
        return "short" if self.scorer == "exact" else "numeric"

    @property
    def key(self) -> str:
        return self.question

    @property
    def truth(self) -> str:
        return "correct" if self.correct else "wrong"


def S(n, language, question, targets, reply, correct):  # noqa: N802
    return Short(f"{language}-short-{n:02d}", language, "exact", question, tuple(targets), reply, correct)


def N(n, language, question, target, reply, correct):  # noqa: N802
    return Short(f"{language}-num-{n:02d}", language, "numeric", question, (target,), reply, correct)


SHORTS = [
    S(1, "en", "What is the capital of France? Answer with one word.", ["Paris"], "Paris", True),
    S(2, "en", "Which city is the capital of Japan? Give the city name only.", ["Tokyo"], "tokyo.", True),
    S(3, "en", "What is the capital of Italy?", ["Rome"], "The capital is Rome.", True),
    S(4, "en", "Which planet is closest to the Sun? Answer with one word.", ["Mercury"], "MERCURY!", True),
    S(5, "en", "What is the chemical symbol for sodium?", ["Na"], "Na", True),
    S(6, "en", "Who wrote the play Hamlet?", ["Shakespeare", "William Shakespeare"], "William Shakespeare",
      True),
    S(7, "en", "What colour do you get by mixing blue and yellow paint?", ["green"], "Green, of course.", True),
    S(8, "en", "What is the largest mammal on Earth?", ["blue whale"], "The blue whale", True),
    S(9, "en", "What is the capital of Canada? Answer with one word.", ["Ottawa"], "Toronto", False),
    S(10, "en", "What is the capital of Spain? Answer with one word.", ["Madrid"], "It is not Madrid; it is Barcelona.",
      False),
    S(11, "en", "What is the opposite of 'hot'? Answer with one word.", ["cold"], '"Cold"', True),
    S(1, "ko", "대한민국의 수도는 어디인가요? 도시 이름만 답하세요.", ["서울", "Seoul"], "서울", True),
    S(2, "ko", "한글을 창제한 조선의 임금은 누구인가요?", ["세종", "세종대왕"], "세종대왕입니다.", True),
    S(3, "ko", "일본의 수도는 어디인가요?", ["도쿄", "Tokyo"], "도쿄입니다.", True),
    S(4, "ko", "물의 화학식을 쓰세요.", ["H2O"], "H₂O", True),
    S(5, "ko", "태양계에서 가장 큰 행성의 이름은 무엇인가요?", ["목성"], "목성.", True),
    S(6, "ko", "조선을 건국한 인물은 누구인가요?", ["이성계", "태조"], "정답은 이성계입니다.", True),
    S(7, "ko", "한국에서 가장 높은 산의 이름은 무엇인가요?", ["한라산"], "지리산", False),
    S(8, "ko", "음력 8월 15일인 한국의 명절은 무엇인가요?", ["추석", "한가위"], "모르겠습니다.", False),
    S(9, "ko", "영어 단어 'apple'을 한국어로 쓰세요.", ["사과"], "사과", True),
    N(1, "en", "What is 17 + 25? Answer with a number.", "42", "42", True),
    N(2, "en", "What is 9 times 8? Answer with a number.", "72", "The answer is 72.", True),
    N(3, "en", "A box holds 12 eggs. How many eggs are in 5 boxes?", "60", "5 × 12 = 60", True),
    N(4, "en", "What is 1000 + 234? Answer with a number.", "1234", "1,234", True),
    N(5, "en", "How many minutes are in 2 hours?", "120", "120 minutes (not 100).", True),
    N(6, "en", "What is 15% of 200?", "30", "I think it's 35.", False),
    N(7, "en", "What is 2 to the power of 5?", "32", "I can't compute that.", False),
    N(1, "ko", "사과 3개와 배 4개를 합하면 모두 몇 개인가요?", "7", "모두 7개입니다.", True),
    N(2, "ko", "100에서 37을 빼면 얼마인가요?", "63", "63입니다", True),
    N(3, "ko", "한 변이 5cm인 정사각형의 넓이는 몇 cm²인가요?", "25", "5 × 5 = 25이므로 25 cm²입니다.", True),
]

ITEMS = [*CHOICES, *SHORTS]
BY_ID = {item.id: item for item in ITEMS}
KINDS = ("choice-ko", "choice-en", "short", "numeric")


def check_items() -> None:
    ids = [item.id for item in ITEMS]
    assert len(set(ids)) == len(ids), "item ids must be unique"
    keys = [item.key for item in ITEMS]
    for key in keys:  # the upstream finds an item by its question: no question may hold another
        inside = [other for other in keys if other != key and other in key]
        assert not inside, f"{key!r} contains {inside}"
    for item in CHOICES:
        assert item.answer in LETTERS and (item.chosen is None or item.chosen in LETTERS), item.id
        assert (item.style in NO_ANSWER_STYLES) == (item.chosen is None), item.id


# ---- The upstream: a scripted OpenAI-compatible server on 127.0.0.1 ----------------------------------------------


@dataclass
class Traffic:
    requests: Counter = field(default_factory=Counter)  # (model, item id) -> requests
    stops: dict = field(default_factory=dict)  # model -> the stop sequences it sent
    unmatched: list = field(default_factory=list)


def truncate_at_stop(text: str, stop) -> str:
    """What an OpenAI-compatible server returns: the text before the first stop sequence, which is left out."""
    stops = [stop] if isinstance(stop, str) else [s for s in (stop or []) if isinstance(s, str)]
    cuts = [text.find(s) for s in stops if s and s in text]
    return text[: min(cuts)] if cuts else text


def prompt_of(messages: list) -> str:
    texts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):  # content parts
            content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        texts.append(str(content or ""))
    return "\n".join(texts)


def find_item(prompt: str):
    matches = [item for item in ITEMS if item.key in prompt]
    return max(matches, key=lambda item: len(item.key)) if matches else None


class ScriptedUpstream:
    def __init__(self, honour_stop: bool) -> None:
        self.traffic = Traffic()
        self.lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    return self.send(404, {"error": {"message": f"no route {self.path}"}})
                self.send(200, upstream.complete(body, honour_stop))

            def send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def complete(self, body: dict, honour_stop: bool) -> dict:
        model = str(body.get("model", "?"))
        prompt = prompt_of(body.get("messages") or [])
        item = find_item(prompt)
        with self.lock:
            if item is None:
                self.traffic.unmatched.append((model, prompt[:80]))
            else:
                self.traffic.requests[model, item.id] += 1
            self.traffic.stops.setdefault(model, set()).add(json.dumps(body.get("stop")))
        text = "" if item is None else item.reply
        if honour_stop:
            text = truncate_at_stop(text, body.get("stop"))
        return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                             "logprobs": None}],
                "usage": {"prompt_tokens": max(1, len(prompt) // 4), "completion_tokens": max(1, len(text) // 4),
                          "total_tokens": max(1, len(prompt) // 4) + max(1, len(text) // 4)}}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedUpstream:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- Running the tools -------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    score: float
    seen: str = ""  # the reply the tool received
    extracted: str = ""  # what the scorer compared (lm-eval's filtered response) or its reason (GenSandbox)


@dataclass
class ToolResult:
    label: str
    verdicts: dict = field(default_factory=dict)  # item id -> Verdict
    error: str = ""
    seconds: float = 0.0
    aggregate: str = ""  # GenSandbox's own summary (`gensandbox show --json`), a cross-check


def run_command(command: list[str], cwd: Path, env: dict, timeout_s: float) -> tuple[int, str]:
    try:
        done = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired as expired:
        return -1, f"timed out after {timeout_s:.0f} s\n{expired.stdout or ''}{expired.stderr or ''}"
    return done.returncode, done.stdout + done.stderr


GENSANDBOX_MODEL = "scripted-gensandbox"
LMEVAL_MODEL = "scripted-lmeval"


def gensandbox_files(workdir: Path) -> list[str]:
    """The suites as a user would give them: KMMLU's own CSV layout for the Korean items, JSONL for the rest."""
    ko = workdir / "kmmlu-ko.csv"
    with open(ko, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "question", "answer", "A", "B", "C", "D", "Category", "Human Accuracy"])
        for item in CHOICES:
            if item.language == "ko":
                writer.writerow([item.id, item.stem, LETTERS.index(item.answer) + 1, *item.options, item.category,
                                 "0.5"])
    english = write_jsonl(workdir / "choice-en.jsonl", (
        {"id": item.id, "language": "en", "category": item.category, "input": item.stem, "choices": list(item.options),
         "target": item.answer, "scorer": "choice"} for item in CHOICES if item.language == "en"))
    short = write_jsonl(workdir / "short.jsonl", (
        {"id": item.id, "language": item.language, "category": item.kind,
         "messages": [{"role": "user", "content": item.question}],
         "target": list(item.targets) if len(item.targets) > 1 else item.targets[0], "scorer": item.scorer}
        for item in SHORTS))
    return [f"kmmlu:{ko}", str(english), str(short)]


def run_gensandbox(workdir: Path, upstream: ScriptedUpstream, timeout_s: float) -> ToolResult:
    result = ToolResult("GenSandbox")
    config = workdir / "gensandbox.toml"
    config.write_text(textwrap.dedent(f"""\
        [run]
        max_tokens = 256
        cache = false

        [[models]]
        name = "scripted"
        provider = "openai"
        base_url = "{upstream.base_url}"
        model = "{GENSANDBOX_MODEL}"
        concurrency = 8
        price_per_million_input_tokens = 0
        price_per_million_output_tokens = 0
        """))
    home = workdir / "gensandbox-home"
    env = offline_env(GENSANDBOX_HOME=str(home))
    for name in ("GENSANDBOX_DATABASE_URL", "GENSANDBOX_LEDGER_URL"):
        env.pop(name, None)
    command = [str(GENSANDBOX), "run", "-c", str(config), "--models", "scripted",
               "--suites", ",".join(gensandbox_files(workdir)), "--run-id", "agreement"]
    started = time.monotonic()
    code, output = run_command(command, workdir, env, timeout_s)
    result.seconds = time.monotonic() - started
    if code != 0:
        result.error = f"`gensandbox run` exit code {code}:\n{tail(output)}"
        return result
    with sqlite3.connect(home / "gensandbox.db") as db:
        rows = db.execute("SELECT item_id, response_text, score, reason, error FROM samples WHERE run_id = ?",
                          ("agreement",)).fetchall()
    for item_id, response, score, reason, error in rows:
        result.verdicts[item_id] = Verdict(0.0 if score is None else float(score), response or "",
                                           error or reason or "")
    failed = [item_id for item_id, *_, error in rows if error]
    if failed:
        result.error = f"{len(failed)} calls failed: {', '.join(sorted(failed))}"
    # Cross-check: GenSandbox's own aggregate must equal the mean of the per-item scores read from the store.
    code, output = run_command([str(GENSANDBOX), "show", "agreement", "--json", "-c", str(config)], workdir, env, 120)
    result.aggregate = output if code == 0 else f"`gensandbox show` exit code {code}: {tail(output)}"
    return result


LMEVAL_MC_TEXT = "{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\n{{cue}}"
LMEVAL_MC_TARGET = "{{['A', 'B', 'C', 'D'][answer-1]}}"


def lmeval_tasks(workdir: Path, data: dict[str, Path]) -> dict[str, str]:
    """lm-eval's own task settings, copied field by field from the 0.4.13 YAML named above each, over this data.
    Only the dataset, the prompt's cue for English items ("Answer:", as lm-eval's generative MMLU has) and the
    fifth option of KorMedMCQA (ours have four) differ. Returns task name -> item kind it scores."""

    def dataset(path: Path) -> dict:
        return {"dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(path)}}, "test_split": "test"}

    exact = {"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}
    tasks = {
        # lm_eval/tasks/kmmlu/direct/_direct_kmmlu_yaml
        "agree_kmmlu_direct": {
            **dataset(data["choice"]), "output_type": "generate_until",
            "doc_to_text": LMEVAL_MC_TEXT, "doc_to_target": LMEVAL_MC_TARGET,
            "metric_list": [{**exact, "ignore_case": True, "ignore_punctuation": True, "regexes_to_ignore": [" "]}],
            "generation_kwargs": {"until": ["Q:", "\n\n", "</s>", "."], "do_sample": False, "temperature": 0.0},
        },
        # lm_eval/tasks/kormedmcqa/_template_yaml (its filter is lm-eval's utils.ExtractChoiceFilter)
        "agree_kormedmcqa": {
            **dataset(data["choice"]), "output_type": "generate_until",
            "doc_to_text": LMEVAL_MC_TEXT, "doc_to_target": LMEVAL_MC_TARGET,
            "filter_list": [{"name": "extract_answer", "filter": [
                {"function": "!function lmeval_filters.ExtractChoiceFilter"}, {"function": "take_first"}]}],
            "metric_list": [{**exact, "ignore_case": True, "ignore_punctuation": True,
                             "regexes_to_ignore": [" ", "\n"]}],
            "generation_kwargs": {"until": ["Q:", "</s>", "<|im_end|>", ".", "\n\n"], "do_sample": False,
                                  "temperature": 0.0, "max_gen_toks": 1024},
        },
        # lm_eval/tasks/triviaqa/default.yaml
        "agree_triviaqa": {
            **dataset(data["short"]), "output_type": "generate_until",
            "doc_to_text": "Question: {{question}}\nAnswer:", "doc_to_target": "aliases", "target_delimiter": " ",
            "generation_kwargs": {"until": ["\n", ".", ","], "do_sample": False, "temperature": 0.0},
            "filter_list": [{"name": "remove_whitespace", "filter": [{"function": "remove_whitespace"},
                                                                     {"function": "take_first"}]}],
            "metric_list": [{**exact, "ignore_case": True, "ignore_punctuation": True}],
        },
        # lm_eval/tasks/gsm8k/gsm8k.yaml, its "flexible-extract" filter (zero-shot: our items have no "####")
        "agree_gsm8k": {
            **dataset(data["numeric"]), "output_type": "generate_until",
            "doc_to_text": "Question: {{question}}\nAnswer:", "doc_to_target": "{{answer}}",
            "metric_list": [{**exact, "ignore_case": True, "ignore_punctuation": False,
                             "regexes_to_ignore": [",", "\\$", "(?s).*#### ", "\\.$"]}],
            "generation_kwargs": {"until": ["Question:", "</s>", "<|im_end|>"], "do_sample": False,
                                  "temperature": 0.0},
            "filter_list": [{"name": "flexible-extract", "filter": [
                {"function": "regex", "group_select": -1, "regex_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)"},
                {"function": "take_first"}]}],
        },
    }
    for name, task in tasks.items():
        text = json.dumps({"task": name, **task, "metadata": {"version": 1.0}}, ensure_ascii=False, indent=1)
        # JSON is YAML; lm-eval's `!function` tag must stay a tag, not a quoted string.
        tag = "!function lmeval_filters.ExtractChoiceFilter"
        text = text.replace(f'"{tag}"', tag)
        (workdir / f"{name}.yaml").write_text(text)
    # lm-eval resolves `!function module.name` to module.py beside the YAML: this one re-exports its own filter.
    (workdir / "lmeval_filters.py").write_text(
        "# lm-eval's KorMedMCQA answer extraction, used as the installed package ships it.\n"
        "from lm_eval.tasks.kormedmcqa.utils import ExtractChoiceFilter  # noqa: F401\n")
    return {"agree_kmmlu_direct": "choice", "agree_kormedmcqa": "choice", "agree_triviaqa": "short",
            "agree_gsm8k": "numeric"}


def lmeval_data(workdir: Path) -> dict[str, Path]:
    cue = {"ko": "정답：", "en": "Answer:"}
    return {
        "choice": write_jsonl(workdir / "choice.jsonl", (
            {"id": item.id, "question": item.stem, **dict(zip(LETTERS, item.options, strict=True)),
             "answer": LETTERS.index(item.answer) + 1, "cue": cue[item.language]} for item in CHOICES)),
        "short": write_jsonl(workdir / "short.jsonl", (
            {"id": item.id, "question": item.question, "aliases": list(item.targets)}
            for item in SHORTS if item.scorer == "exact")),
        "numeric": write_jsonl(workdir / "numeric.jsonl", (
            {"id": item.id, "question": item.question, "answer": item.targets[0]}
            for item in SHORTS if item.scorer == "numeric")),
    }


def run_lmeval(workdir: Path, upstream: ScriptedUpstream, timeout_s: float) -> dict[str, ToolResult]:
    tasks = lmeval_tasks(workdir, lmeval_data(workdir))
    model_args = (f"model={LMEVAL_MODEL},base_url={upstream.base_url}/chat/completions,num_concurrent=8,"
                  "max_retries=1,tokenized_requests=False")
    output_path = workdir / "lmeval-results"
    command = [str(LMEVAL), "run", "--model", "local-chat-completions", "--model_args", model_args,
               "--tasks", ",".join(tasks), "--include_path", str(workdir), "--apply_chat_template",
               "--output_path", str(output_path), "--log_samples"]
    env = offline_env(OPENAI_API_KEY="unused", HF_HOME=str(workdir / "hf-home"), HOME=str(workdir / "home"))
    started = time.monotonic()
    code, output = run_command(command, workdir, env, timeout_s)
    seconds = time.monotonic() - started
    results = {name: ToolResult(name, seconds=seconds) for name in tasks}
    if code != 0:
        for result in results.values():
            result.error = f"`lm-eval run` exit code {code}:\n{tail(output)}"
        return results
    for name, result in results.items():
        files = sorted(output_path.rglob(f"samples_{name}_*.jsonl"))
        if not files:
            result.error = f"no samples file for {name} under {output_path}:\n{tail(output)}"
            continue
        for line in files[-1].read_text(encoding="utf-8").splitlines():
            sample = json.loads(line)
            resps = sample.get("resps") or [[""]]
            seen = resps[0][0] if resps and resps[0] else ""
            filtered = sample.get("filtered_resps") or [""]
            result.verdicts[sample["doc"]["id"]] = Verdict(float(sample["exact_match"]), seen,
                                                           filtered[0] if isinstance(filtered, list) else filtered)
    return results


# ---- Comparing ---------------------------------------------------------------------------------------------------

LMEVAL_SETTINGS = {  # label -> the lm-eval task that scores each kind of item
    "lm-eval kmmlu-direct": {"choice": "agree_kmmlu_direct", "short": "agree_triviaqa", "numeric": "agree_gsm8k"},
    "lm-eval kormedmcqa": {"choice": "agree_kormedmcqa", "short": "agree_triviaqa", "numeric": "agree_gsm8k"},
}


def family(item) -> str:
    return "choice" if isinstance(item, Choice) else item.kind


def scores_of(label: str, gensandbox: ToolResult | None, lmeval: dict[str, ToolResult]) -> dict[str, Verdict | None]:
    if label == "GenSandbox":
        return {item.id: gensandbox.verdicts.get(item.id) if gensandbox else None for item in ITEMS}
    tasks = LMEVAL_SETTINGS[label]
    return {item.id: lmeval[tasks[family(item)]].verdicts.get(item.id) if lmeval else None for item in ITEMS}


TASK_STOPS = {"agree_kmmlu_direct": ["Q:", "\n\n", "</s>", "."], "agree_kormedmcqa": ["Q:", "</s>", "<|im_end|>", "."],
              "agree_triviaqa": ["\n", ".", ","], "agree_gsm8k": ["Question:", "</s>", "<|im_end|>"]}
STYLE_FORMS = {  # what a reply style gives as its answer
    "number": {"ko-number", "ko-number-sentence", "circled", "ko-circled-sentence", "number", "en-option-number"},
    "text": {"text", "ko-text-sentence"},
}


def answer_end(item: Choice) -> int:
    """Where the reply's answer (the last letter, number or option text it names as its choice) ends."""
    index = LETTERS.index(item.chosen)
    others = [letter for letter in LETTERS if letter != item.chosen]
    values = {"L": item.chosen, "l": item.chosen.lower(), "n": str(index + 1), "T": item.options[index],
              "C": CIRCLED[index], "W1": others[0], "W2": others[1]}
    offset = end = 0
    for literal, name, _, _ in string.Formatter().parse(CHOICE_STYLES[item.style]):
        offset += len(literal)
        if name:
            offset += len(values[name])
            if name in ("L", "l", "n", "T", "C"):
                end = offset
    return end


def stop_cut(item, task: str) -> tuple[str, int] | None:
    """The stop sequence that ended the reply lm-eval got, and where, if one did."""
    found = [(item.reply.find(stop), stop) for stop in TASK_STOPS[task] if stop and stop in item.reply]
    return (min(found)[1], min(found)[0]) if found else None


def lmeval_reason(item, verdict: Verdict, task: str) -> str:
    """One line: why lm-eval's score differs from the grader's, from the reply's form and what lm-eval compared."""
    got = verdict.extracted.strip()
    if isinstance(item, Short):
        if not item.correct:
            return f"accepted {got!r}"
        if item.kind == "numeric":
            return f"took the last number ({got!r}), not the answer the reply gives"
        if unicodedata.normalize("NFKC", item.reply) != item.reply:
            return f"no Unicode normalisation: {item.reply!r} is not {item.targets[0]!r}"
        return f"exact match on the whole reply: the words around the answer make {got!r} wrong"
    if item.chosen is None:
        return f"counted a hedge or refusal as the answer {got!r} (a grader: no answer)"
    if not item.correct:
        return f"took {got!r} though the reply chose {item.chosen}"
    cut = stop_cut(item, task)
    if cut and cut[1] < answer_end(item):
        then = "" if task == "agree_kmmlu_direct" or not got else f", then took {got!r}"
        return f"stop sequence {cut[0]!r} cut the reply before its answer{then}"
    form = next((form for form, styles in STYLE_FORMS.items() if item.style in styles), "letter")
    if task == "agree_kmmlu_direct":
        return {"number": "no answer extraction, and an option number is not a letter",
                "text": "no answer extraction, and the option's text is not its letter"}.get(
            form, "no answer extraction: exact match needs the bare letter")
    if not got:
        if form == "number":
            return "letters only: option numbers (2, 2번, ③, Option 4) are not read"
        if form == "text":
            return "the option's text is not mapped to its letter"
        if re.search(f"{item.chosen}[가-힣]", verdict.seen):
            return f"a letter joined to Korean ('{item.chosen}입니다') is no stand-alone letter to its \\b patterns"
        return "no letter found"
    return f"took {got!r}, the last stand-alone letter, not the reply's answer"


def accuracy(verdicts: dict[str, Verdict | None], items) -> tuple[int, int]:
    scored = [verdicts.get(item.id) for item in items]
    return sum(1 for v in scored if v and v.score >= 1.0), len(items)


def disagreements(verdicts: dict[str, Verdict | None]) -> list:
    return [item for item in ITEMS if (verdicts.get(item.id) is not None)
            and ((verdicts[item.id].score >= 1.0) != item.correct)]


def shown(text: str, limit: int = 90) -> str:
    text = json.dumps(text, ensure_ascii=False)[1:-1]  # newlines as \n
    return text if len(text) <= limit else text[: limit - 1] + "…"


def own_summary(gensandbox: ToolResult, verdicts: dict[str, Verdict | None]) -> str:
    """GenSandbox's own per-suite scores (`gensandbox show --json`) must add up to the per-item scores read here."""
    try:
        rows = json.loads(gensandbox.aggregate)["results"]
    except (ValueError, KeyError, TypeError):
        gensandbox.error = f"cannot read `gensandbox show --json`: {tail(gensandbox.aggregate)}"
        return "gensandbox show --json: unreadable"
    correct = round(sum(row["score"] * row["n"] for row in rows))
    items = sum(row["n"] for row in rows)
    right, total = accuracy(verdicts, ITEMS)
    if (correct, items) != (right, total):
        gensandbox.error = f"`gensandbox show` says {correct}/{items}, the per-item scores {right}/{total}"
    return (f"`gensandbox show agreement --json` (its own per-suite means): {correct}/{items}, "
            f"{'the same as' if (correct, items) == (right, total) else 'NOT the same as'} the per-item scores")


TASK_LABELS = {"agree_kmmlu_direct": "lm-eval kmmlu-direct", "agree_kormedmcqa": "lm-eval kormedmcqa",
               "agree_triviaqa": "lm-eval triviaqa", "agree_gsm8k": "lm-eval gsm8k"}


def truth_text(item) -> str:
    if isinstance(item, Short):
        return f"{item.truth} (target {' / '.join(item.targets)})"
    if item.chosen is None:
        return f"no answer (answer {item.answer})"
    return f"{item.chosen}, correct" if item.correct else f"{item.chosen}, wrong (answer {item.answer})"


def report(gensandbox: ToolResult | None, lmeval: dict[str, ToolResult], args) -> int:
    labels = ["truth"] + (["GenSandbox"] if gensandbox else []) + (list(LMEVAL_SETTINGS) if lmeval else [])
    verdicts = {"truth": {item.id: Verdict(1.0 if item.correct else 0.0) for item in ITEMS}}
    for label in labels[1:]:
        verdicts[label] = scores_of(label, gensandbox, lmeval)
    kinds = {kind: [item for item in ITEMS if item.kind == kind] for kind in KINDS}
    print(f"\n{len(ITEMS)} items: " + ", ".join(f"{len(group)} {kind}" for kind, group in kinds.items())
          + f"; the upstream {'ignores' if args.ignore_stop else 'honours'} stop sequences\n")
    columns = ["scorer", "accuracy", "items disagreeing with truth", *KINDS]
    widths = [20, 15, 28, 9, 9, 9, 9]
    print(" | ".join(f"{c:<{w}}" for c, w in zip(columns, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for label in labels:
        right, total = accuracy(verdicts[label], ITEMS)
        missing = sum(1 for item in ITEMS if verdicts[label].get(item.id) is None)
        wrong = "–" if label == "truth" else str(len(disagreements(verdicts[label])))
        cells = [label, f"{right}/{total} = {100 * right / total:.1f}%", wrong,
                 *("{}/{}".format(*accuracy(verdicts[label], group)) for group in kinds.values())]
        note = f"  ({missing} not scored)" if missing else ""
        print(" | ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True)).rstrip() + note)
    if lmeval:
        print("\nlm-eval 0.4.13 scores multiple choice with its kmmlu `direct` task (exact_match on the whole reply)"
              "\nor its kormedmcqa task (an answer-extraction cascade); short answers with triviaqa's settings and"
              "\nnumbers with gsm8k's flexible-extract (the last number), in both rows.")
    if gensandbox and gensandbox.aggregate:
        print(f"\n{own_summary(gensandbox, verdicts['GenSandbox'])}")
    for result in [gensandbox, *lmeval.values()]:
        if result and result.error:
            print(f"\n{result.label} FAILED: {result.error}")

    differing = [item for item in ITEMS if any(
        verdicts[label].get(item.id) is not None and (verdicts[label][item.id].score >= 1.0) != item.correct
        for label in labels[1:])]
    print(f"\nItems where a scorer disagrees with the truth ({len(differing)} of {len(ITEMS)}); "
          "1 = scored correct, 0 = wrong, ✗ = not the truth:")
    for item in differing:
        marks = []
        tasks = list(dict.fromkeys(LMEVAL_SETTINGS[label][family(item)] for label in LMEVAL_SETTINGS)) if lmeval else []
        for label, v in [("GenSandbox", verdicts["GenSandbox"].get(item.id))] * bool(gensandbox) + [
                (TASK_LABELS[task], lmeval[task].verdicts.get(item.id)) for task in tasks]:
            flag = "" if v is None or (v.score >= 1.0) == item.correct else " ✗"
            marks.append(f"{label} {'–' if v is None else f'{v.score:g}'}{flag}")
        print(f"\n  {item.id}  reply: {shown(item.reply)}")
        print(f"      truth: {truth_text(item)} | " + " | ".join(marks))
        if gensandbox and (v := verdicts["GenSandbox"].get(item.id)) and (v.score >= 1.0) != item.correct:
            print(f"      GenSandbox: {v.extracted}")
        for task in tasks:
            v = lmeval[task].verdicts.get(item.id)
            if v is None or (v.score >= 1.0) == item.correct:
                continue
            got = [] if v.seen == item.reply else [f"got {shown(v.seen, 50)!r}"]
            if v.extracted != v.seen:
                got.append(f"compared {shown(v.extracted, 50)!r}")
            print(f"      {TASK_LABELS[task]}: {'; '.join(got) + ' -> ' if got else ''}{lmeval_reason(item, v, task)}")

    misread = []
    if gensandbox and not gensandbox.error:
        misread = print_readings(verdicts["GenSandbox"])
        wrong = disagreements(verdicts["GenSandbox"])
        if wrong:
            print(f"\nGenSandbox disagrees with the truth on {len(wrong)} items: {', '.join(i.id for i in wrong)}")
        elif not misread:
            print("\nGenSandbox agrees with the truth on every item.")
    failed = any(r and r.error for r in [gensandbox, *lmeval.values()])
    gs_wrong = bool(gensandbox and (disagreements(verdicts["GenSandbox"]) or misread))
    return 1 if failed or gs_wrong else 0


def gensandbox_reading(verdict: Verdict) -> str | None:
    """The option GenSandbox's choice scorer read, from its reason ("chose C (…); correct C" / "no answer: …")."""
    if verdict.extracted.startswith("no answer"):
        return "no answer"
    found = re.match(r"chose ([A-Z])\b", verdict.extracted)
    return found.group(1) if found else None


def print_readings(verdicts: dict[str, Verdict | None]) -> list:
    """Stricter than the score: the option GenSandbox read must be the one the grader read, right or wrong."""
    misread = []
    for item in CHOICES:
        v = verdicts.get(item.id)
        read = gensandbox_reading(v) if v else None
        if read != (item.chosen or "no answer"):
            misread.append((item, read))
    same = len(CHOICES) - len(misread)
    print(f"\nGenSandbox read the same option as the grader (or no answer where the grader found none) on "
          f"{same}/{len(CHOICES)} multiple-choice replies")
    for item, read in misread:
        reason = verdicts[item.id].extracted if verdicts.get(item.id) else "not scored"
        print(f"  {item.id}  reply: {shown(item.reply)}  grader: {item.chosen or 'no answer'}, GenSandbox: "
              f"{read or 'unreadable reason'} ({reason})")
    return misread


def check_traffic(upstream: ScriptedUpstream, ran_gensandbox: bool, ran_lmeval: bool) -> list[str]:
    """Every tool asked about every item it scores, once per task: else the comparison is not like for like."""
    problems = []
    if upstream.traffic.unmatched:
        problems.append(f"the upstream could not place {len(upstream.traffic.unmatched)} prompts, e.g. "
                        f"{upstream.traffic.unmatched[0]}")
    expected = []
    if ran_gensandbox:
        expected += [(GENSANDBOX_MODEL, item.id, 1) for item in ITEMS]
    if ran_lmeval:
        expected += [(LMEVAL_MODEL, item.id, 2 if isinstance(item, Choice) else 1) for item in ITEMS]
    for model, item_id, count in expected:
        seen = upstream.traffic.requests[model, item_id]
        if seen != count:
            problems.append(f"{model} asked {seen} times for {item_id} (expected {count})")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("gensandbox", "lmeval"))
    parser.add_argument("--ignore-stop", action="store_true",
                        help="the upstream returns whole replies whatever stop sequences a tool sends")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (printed) to look into")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per tool run")
    args = parser.parse_args()
    check_items()
    run_gs = args.only in (None, "gensandbox")
    run_lm = args.only in (None, "lmeval")
    if run_lm and not ensure_peers_venv(with_peers=True):
        print("the peers venv could not be installed (see above)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-agreement-"))
    try:
        with ScriptedUpstream(honour_stop=not args.ignore_stop) as upstream:
            print(f"upstream {upstream.base_url}; working folder {workdir}")
            gensandbox = lmeval = None
            if run_gs:
                (workdir / "gensandbox").mkdir()
                gensandbox = run_gensandbox(workdir / "gensandbox", upstream, args.timeout)
                print(f"GenSandbox: {len(gensandbox.verdicts)} items scored in {gensandbox.seconds:.1f} s")
            if run_lm:
                (workdir / "lmeval").mkdir()
                lmeval = run_lmeval(workdir / "lmeval", upstream, args.timeout)
                seconds = next(iter(lmeval.values())).seconds
                print(f"lm-eval: {sum(len(r.verdicts) for r in lmeval.values())} task samples in {seconds:.1f} s")
            problems = check_traffic(upstream, run_gs and not (gensandbox and gensandbox.error),
                                     run_lm and not any(r.error for r in lmeval.values()))
            stops = {model: sorted(sent) for model, sent in upstream.traffic.stops.items()}
        for model, sent in stops.items():
            print(f"stop sequences {model} sent: {', '.join(sent)}")
        code = report(gensandbox, lmeval or {}, args)
        for problem in problems:
            print(f"TRAFFIC: {problem}")
        return 1 if problems else code
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
