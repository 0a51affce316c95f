"""The terminal chat: the engine and database Telegram users get, in a terminal.

Buttons are numbered (type the number to press one), commands work as in Telegram, and the state
is kept in the same database, so a chat continues where it stopped.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine as Database

from bot.dates import taipei_today
from bot.dialogue import Button, Engine, Event, Reply
from bot.dialogue.faq import THUMBS
from bot.storage import converse, remember_answers
from bot.textnorm import strip_controls

# No Telegram user has id 0: the terminal user never collides with a real one.
CONSOLE_USER_ID = 0
QUIT = frozenset({"/quit", "/exit", "quit", "exit"})
WEEK = 7


@dataclass(frozen=True)
class Style:
    """ANSI sequences, or nothing at all when colours are off."""

    bold: str = ""
    italic: str = ""
    link: str = ""
    code: str = ""
    dim: str = ""
    bot: str = ""
    you: str = ""
    reset: str = ""


COLOURS = Style(
    bold="\033[1m",
    italic="\033[3m",
    link="\033[4;34m",
    code="\033[36m",
    dim="\033[2m",
    bot="\033[1;32m",
    you="\033[1;36m",
    reset="\033[0m",
)
PLAIN = Style()


def wants_colour(stream: TextIO, environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Colours on a terminal, unless NO_COLOR is set (no-color.org) or the terminal is dumb."""
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class _TerminalHtml(HTMLParser):
    """Telegram's HTML subset to terminal text: bold, italics, links with their address, and a
    quote (Telegram's expandable ones fold; a terminal shows it, each line behind a bar)."""

    def __init__(self, style: Style) -> None:
        super().__init__(convert_charrefs=True)
        self.style = style
        self.parts: list[str] = []
        self._href: list[str | None] = []
        self._anchor_start = 0
        self._quote_bar = ""  # what starts each line inside a quote

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        s = self.style
        if tag == "blockquote":
            self._quote_bar = f"{s.dim}┃{s.reset} "
            self.parts.append(self._quote_bar)
            return
        if tag == "a":
            self._href.append(dict(attrs).get("href"))
            self._anchor_start = len(self.parts)
        self.parts.append({"b": s.bold, "i": s.italic, "a": s.link, "code": s.code}.get(tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._quote_bar = ""
            return
        self.parts.append(self.style.reset if tag in ("b", "i", "a", "code") else "")
        if tag == "a" and self._href:
            href = self._href.pop()
            label = "".join(self.parts[self._anchor_start :])
            if href and href not in label:
                self.parts.append(f" {self.style.dim}<{href}>{self.style.reset}")

    def handle_data(self, data: str) -> None:
        self.parts.append(data.replace("\n", "\n" + self._quote_bar) if self._quote_bar else data)


def to_terminal(html: str, style: Style) -> str:
    """Render a reply's HTML for the terminal."""
    parser = _TerminalHtml(style)
    parser.feed(html)
    parser.close()
    return unescape("".join(parser.parts))


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def echo_input(prompt: str) -> str:
    """`input` for piped stdin: shows each line after the prompt, as a terminal would."""
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    print(prompt + line.rstrip("\n"), flush=True)
    return line


@dataclass
class Console:
    """One terminal conversation: reads lines, sends events, prints replies."""

    db: Database
    engine: Engine
    out: TextIO = sys.stdout
    style: Style = PLAIN
    user_id: int = CONSOLE_USER_ID
    language: str | None = None  # like Telegram's language_code
    downloads: Path = field(default_factory=Path.cwd)
    buttons: dict[str, Button] = field(default_factory=dict)
    # A terminal has no message ids: each answer shown gets one (the clock's milliseconds keep
    # them apart across runs), so 👍 or 👎 typed alone reacts to the last one, as in Telegram.
    message_ids: Iterator[int] = field(
        default_factory=lambda: itertools.count(time.time_ns() // 10**6)
    )
    last_answer: int | None = None

    def run(self, read: Callable[[str], str] = input, *, payload: str = "") -> int:
        """Chat until end of input or Ctrl-C; starts like a Telegram /start (with `payload`)."""
        s = self.style
        self.print(
            f"{s.bold}Gold Card help desk{s.reset} {s.dim}· terminal chat — type a question, "
            f"a number to press a button (in a guide, n / b for next / back), /help for "
            f"commands, Ctrl-D to leave{s.reset}\n"
        )
        self.send(Event.start(payload, language=self.language))
        while True:
            try:
                line = read(f"{s.you}you ▸{s.reset} ")
            except (EOFError, KeyboardInterrupt):
                self.print(f"\n{s.dim}Bye! 再見！{s.reset}")
                return 0
            if line.strip().lower() in QUIT:
                return 0
            event = self.event_for(line)
            if event is not None:
                self.send(event)

    def event_for(self, line: str) -> Event | None:
        """What a typed line means: a button number, a /command, or a message."""
        text = strip_controls(line).strip()
        if not text:
            return None
        if text in self.buttons:
            button = self.buttons[text]
            if button.url:
                self.print(f"  {self.style.link}{button.url}{self.style.reset}\n")
                return None
            return Event.button(button.data or "", language=self.language)
        if text.isdigit() and self.buttons:
            s = self.style
            self.print(f"  {s.dim}No button {text}: type 1–{len(self.buttons)}.{s.reset}\n")
            return None
        if text in THUMBS and self.last_answer is not None:
            return Event.reaction(self.last_answer, [text], language=self.language)
        if text.startswith("/"):
            name, _, arg = text[1:].partition(" ")
            return Event.command(name, arg.strip(), language=self.language)
        return Event.message(text, language=self.language)

    def send(self, event: Event) -> None:
        replies = converse(
            self.db, self.engine, user_id=self.user_id, event=event, today=taipei_today()
        )
        self.buttons = {}
        answers = []
        for reply in replies:
            self.show(reply)
            if reply.answers:
                self.last_answer = next(self.message_ids)
                answers.append((self.last_answer, reply.answers))
        remember_answers(self.db, user_id=self.user_id, sent=answers)
        if event.kind == "reaction" and not replies:
            self.print(f"      {self.style.dim}{event.arg}{self.style.reset}\n")

    def show(self, reply: Reply) -> None:
        s = self.style
        text = to_terminal(reply.text, s).replace("\n", "\n      ")
        self.print(f"{s.bot}bot ▸{s.reset} {text}")
        if reply.document is not None:
            path = self.downloads / reply.document.filename
            path.write_bytes(reply.document.content)
            self.print(f"      📎 {s.bold}{path}{s.reset}")
        pressable: set[str] = set()
        grid: list[list[tuple[str, str]]] = []  # (shown cell, its plain text) per row
        for row in reply.buttons:
            cells = []
            for button in row:
                if button.data is not None and button.data in pressable:
                    # A date picker's weekday headers and blanks: they show the month again,
                    # which its numbered title button does too.
                    cells.append((f"{s.dim}{button.label}{s.reset}", button.label))
                    continue
                pressable.add(button.data or "")
                number = str(len(self.buttons) + 1)
                self.buttons[number] = button
                mark = " ↗" if button.url else ""
                plain = f"[{number}] {button.label}{mark}"
                cells.append((f"{s.bold}[{number}]{s.reset} {button.label}{mark}", plain))
            grid.append(cells)
        # Rows as wide as a week (a date picker's) line up in columns.
        width = max((_width(p) for r in grid if len(r) >= WEEK for _, p in r), default=0)
        for cells in grid:
            if len(cells) >= WEEK:
                line = " ".join(c + " " * (width - _width(p)) for c, p in cells).rstrip()
            else:
                line = "   ".join(c for c, _ in cells)
            self.print("      " + line)
        self.print("")

    def print(self, text: str) -> None:
        print(text, file=self.out, flush=True)
