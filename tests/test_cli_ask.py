"""The `python -m bot ask` contract (DESIGN.md)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from bot.__main__ import main
from tests.conftest import ROOT


def test_ask_json_one_question(capsys):
    assert main(["ask", "How do I renew my gold card?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == "How do I renew my gold card?"
    assert data["answer"]["id"] == "renewal-how"


def test_ask_stdin_one_json_line_per_question(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("補件期限\n\nhello world\n護照效期\n"))
    assert main(["ask", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in rows] == ["補件期限", "", "hello world", "護照效期"]
    assert rows[1]["answer"] is None and rows[2]["answer"] is None
    assert rows[0]["lang"] == "zh"


def test_ask_empty_question_is_a_usage_error(capsys):
    assert main(["ask", "  "]) == 2
    assert "usage" in capsys.readouterr().err


def test_ask_plain_text_in_question_language(capsys):
    assert main(["ask", "延期申請要怎麼做"]) == 0
    out = capsys.readouterr().out
    assert "就業金卡延期申請" in out


def test_ask_as_a_real_process_with_10k_characters():
    question = "passport validity " + "z" * 10_000
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", question],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["question"] == question
