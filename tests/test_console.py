"""The terminal chat: the real engine and database, buttons by number, clean exits."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot.console import COLOURS, PLAIN, Console, to_terminal, wants_colour
from bot.dialogue import Engine, Event
from bot.models import Feedback
from bot.storage import create_db_engine, migrate
from tests.conftest import ROOT


@pytest.fixture
def console(knowledge, matcher, tmp_path) -> Iterator[Console]:
    db = create_db_engine("sqlite://")
    migrate(db)
    yield Console(db, Engine(knowledge, matcher), out=io.StringIO(), downloads=tmp_path)
    db.dispose()


def scripted(*lines: str):
    feed = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read


def test_buttons_are_numbered_and_pressed_by_number(console):
    assert console.run(scripted("3", "1")) == 0  # Step-by-step guides, then the first guide
    out = console.out.getvalue()
    assert "[1] 切換成中文" in out and "[3] 📘 Step-by-step guides" in out
    assert "Applying for the Gold Card" in out and "23 steps" in out
    assert out.rstrip().endswith("Bye! 再見！")


def test_commands_questions_and_a_calendar_file(console, tmp_path):
    console.run(
        scripted(
            "/deadlines", "1", "2027-06-30", "2", "/help", "how to renew my gold card", "quit"
        )
    )
    out = console.out.getvalue()
    assert "Renewal opens" in out and "/mydata" in out and "How to renew" in out
    assert (tmp_path / "goldcard-renewal.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_a_date_prompt_shows_the_calendar_in_columns_and_a_day_is_pressed_by_number(console):
    def day_15() -> str:  # the number the 15th got, read off the screen
        found = re.findall(r"\[(\d+)\] \[?15\b", console.out.getvalue())
        return found[-1]

    lines = iter([lambda: "/deadlines", lambda: "2", day_15])

    def read(prompt: str) -> str:
        try:
            return next(lines)()
        except StopIteration:
            raise EOFError from None

    console.run(read)
    out = console.out.getvalue()
    grid = out.split("Supplementing documents", 1)[-1]
    assert re.search(r"\n +Mo +Tu +We +Th +Fr +Sa +Su\n", grid)  # headers, not numbered
    week = next(line for line in grid.splitlines() if re.search(r"\] \[?15\b", line))
    cells = re.findall(r"\S+(?: \S+)? *", week.strip())
    assert len(cells) == 7 and len({len(c) for c in cells[:-1]}) == 1  # one column per day
    assert "Upload the documents by" in out.split(week, 1)[1]


def test_a_link_button_shows_its_address_and_a_wrong_number_says_so(console):
    console.run(scripted("zzzz qqqq xxxx", "1", "99"))
    out = console.out.getvalue()
    assert "Gold Card help desk ↗" in out
    assert "https://goldcard.nat.gov.tw/zh/help-desk/" in out
    assert "No button 99" in out


def test_ctrl_c_leaves_cleanly(console):
    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    assert console.run(interrupted) == 0


def test_the_state_is_in_the_database(console, knowledge, matcher):
    console.run(scripted("/start g_apply_4"))
    again = Console(console.db, Engine(knowledge, matcher), out=io.StringIO())
    again.run(scripted())
    assert "Welcome back" in again.out.getvalue() and "step 4 of 23" in again.out.getvalue()


def test_html_becomes_terminal_text():
    html = '<b>Bold</b> &amp; <i>it</i> <a href="https://x.tw/a">page</a> <code>c</code>'
    assert to_terminal(html, PLAIN) == "Bold & it page <https://x.tw/a> c"
    coloured = to_terminal("<b>x</b>", COLOURS)
    assert coloured == f"{COLOURS.bold}x{COLOURS.reset}"
    assert to_terminal('<a href="https://x.tw">https://x.tw</a>', PLAIN) == "https://x.tw"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"NO_COLOR": ""}, True), ({"TERM": "dumb"}, False)],
)
def test_colours_only_on_a_terminal_that_wants_them(environ, expected):
    assert wants_colour(_Tty(), environ) is expected
    assert wants_colour(io.StringIO(), environ) is False


def test_python_m_bot_main_is_the_console_without_a_token(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", "BOT_TOKEN": ""}
    env.pop("NO_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "main"],
        input="hi\n/mydata\n", cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "you ▸ hi" in proc.stdout and "What I store about you" in proc.stdout
    assert "\033[" not in proc.stdout  # piped: no colours
    assert (tmp_path / "bot.sqlite3").exists()


def test_the_router_in_the_terminal_chat(console):
    """The terminal chat shows what Telegram users get: the apply guide offered with how to
    apply, and a date in a question computed right away, in either language."""
    console.run(
        scripted(
            "how do I apply for the gold card",
            "我的金卡188年4月15日到期，什麼時候可以申請延期？",
            "ok",
            "quit",
        )
    )
    out = console.out.getvalue()
    assert "📘 Step by step: Applying for the Gold Card" in out
    assert "開放申請延期" in out and "2098年12月15日" in out
    assert "👍" in out


def test_control_characters_are_stripped_from_what_is_typed(console):
    """NUL (which PostgreSQL refuses) and other control characters never reach the engine."""
    assert console.event_for("how do I\x00 renew\x1b my card?\x7f") == Event.message(
        "how do I renew my card?"
    )
    assert console.event_for("/help\x00") == Event.command("help")
    assert console.event_for("\x00\x01") is None


def test_n_and_b_move_through_a_guide_whatever_the_buttons_are_numbered(console):
    console.run(scripted("/guides", "1", "1", "n", "n", "b", "quit"))
    steps = re.findall(r"Step (\d+) of 23", console.out.getvalue())
    assert steps == ["1", "2", "3", "2"]


def test_a_folded_quote_is_shown_behind_a_bar_on_every_line():
    html = 'Lead\n• step\n\n<blockquote expandable>Tail\n\n🔗 <a href="https://x.tw">X</a>\n<i>Source</i></blockquote>'
    assert to_terminal(html, PLAIN) == (
        "Lead\n• step\n\n┃ Tail\n┃ \n┃ 🔗 X <https://x.tw>\n┃ Source"
    )


def test_thumbs_typed_alone_react_to_the_last_answer_as_in_telegram(console):
    console.run(scripted("👍", "how do I renew my gold card", "👎", "👍", "quit"))
    out = console.out.getvalue()
    with Session(console.db) as session:
        rows = session.exec(select(Feedback)).all()
    assert [(r.topic, r.helpful) for r in rows] == [("renewal-how", False)]  # counted once
    assert "+886-2-7733-7660" in out.split("How to renew", 1)[1]  # 👎: the help desk
