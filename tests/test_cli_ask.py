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


def test_ask_json_names_each_topic_and_offer_with_its_deep_link(capsys):
    assert main(["ask", "--json", "補件要怎麼上傳文件？"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["answer"]["title"], out["answer"]["link"]) == (
        "如何補件（補正）",
        "t_supplement-how",
    )
    step = {"kind": "guide", "id": "supplement", "step": 11}
    [guide] = [o for o in out["offers"] if o["kind"] == "guide"]
    assert guide.items() >= step.items() and guide["link"] == "g_supplement_11"


def test_ask_plain_text_computes_a_dated_question_and_names_no_fake_commands(capsys):
    assert main(["ask", "my card expires on 15 April 2099, when can I renew?"]) == 0
    out = capsys.readouterr().out
    assert "Renewal opens" in out and "15 December 2098" in out
    assert "(/" not in out


def test_ask_plain_text_declines_what_the_tutorials_do_not_cover(capsys):
    assert main(["ask", "how do I extend my visitor visa"]) == 0
    out = capsys.readouterr().out
    assert "do not cover" in out and "help@taiwangoldcard.tw" in out


def test_ask_strips_control_characters_like_every_other_channel(capsys):
    assert main(["ask", "--json", "how do I\x00 renew\x1b my gold card?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"] == "how do I renew my gold card?"
    assert out["answer"]["id"] == "renewal-how"
