"""`gensandbox report` end to end: the file, the chart exports, empty states and one-line errors."""

import struct
import xml.etree.ElementTree as ElementTree

from gensandbox.cli.app import main
from tests.reports.conftest import embedded_json


def test_report_in_korean_with_charts_exported(made_run, tmp_path, capsys):
    output, charts = tmp_path / "out" / "report.html", tmp_path / "charts"
    code, out, err = made_run.cli(capsys, "report", made_run.run_id, "-o", str(output), "--lang", "ko",
                                  "--charts", str(charts))
    assert code == 0, err
    assert f"report: {output.resolve()}" in out and "charts: 8 files" in out
    html = output.read_text(encoding="utf-8")
    assert '<html lang="ko">' in html and "순위표" in html
    for name in ("frontier", "leaderboard", "category", "language"):
        svg = ElementTree.parse(charts / f"{name}.svg").getroot()
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        png = (charts / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width > 300 and height > 100
    frontier_svg = (charts / "frontier.svg").read_text(encoding="utf-8")
    assert "비용 대비 품질" in frontier_svg and "echo" in frontier_svg and "grader †" in frontier_svg


def one_line_error(capsys, *args: str) -> str:
    code = main(list(args))
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_errors_are_one_line(made_run, tmp_path, capsys):
    config = str(made_run.config)
    assert "no run `nope`" in one_line_error(capsys, "report", "nope", "-c", config, "-o", str(tmp_path / "r.html"))
    assert "unknown report language `fr`" in one_line_error(capsys, "report", made_run.run_id, "--lang", "fr",
                                                            "-c", config)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    err = one_line_error(capsys, "report", made_run.run_id, "-c", config, "-o", str(blocker / "r.html"))
    assert "cannot write the report" in err and "is a file, not a folder" in err
    assert "is a directory" in one_line_error(capsys, "report", made_run.run_id, "-c", config, "-o", str(tmp_path))
    err = one_line_error(capsys, "report", made_run.run_id, "-c", config, "-o", str(tmp_path / "r.html"),
                         "--charts", str(blocker))
    assert "cannot write the charts" in err and not (tmp_path / "r.html").exists()  # refused before any work


def test_a_run_without_samples_says_what_to_run_next(made_run, tmp_path, capsys):
    # A cost cap below the estimate refuses the run before any call: it is stored with no samples.
    code, _, _ = made_run.cli(capsys, "run", "-m", "echo", "-s", str(made_run.suite), "--run-id", "refused",
                              "--max-cost", "0.0000001")
    assert code == 1
    code, _, err = made_run.cli(capsys, "report", "refused", "-o", str(tmp_path / "r.html"))
    assert code == 0, err
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="empty-state"' in html and "<code>gensandbox run --resume refused</code>" in html
    assert embedded_json(html, "chart-specs") == {} and "nothing to plot" in html


def test_a_run_where_every_call_failed_points_at_the_errors(made_run, tmp_path, capsys):
    code, _, _ = made_run.cli(capsys, "run", "-m", "broken", "-s", str(made_run.suite), "--run-id", "failed")
    assert code == 0
    code, _, err = made_run.cli(capsys, "report", "failed", "-o", str(tmp_path / "r.html"), "--lang", "ko")
    assert code == 0, err
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "채점된 문항이 없습니다" in html and "<code>gensandbox rerun failed</code>" in html
    assert 'data-embedded="40"' in html  # the failed calls are there to look at
