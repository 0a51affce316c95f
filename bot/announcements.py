"""Announcements (`python -m bot announce FILE [--dry-run]`): news about a procedure change,
sent once to every active user who turned on "News about procedure changes" in /settings, by
the reminders' sender (`bot.reminders.ReminderSender`: claims under a lease, one send in flight,
paced under the broadcast rate and the shared send budget, blocked users marked inactive).

The file is YAML, validated like the knowledge base (`file:line: message`):

    id: passport-rule-2027     # optional; without it the content names the announcement
    en: |
      From 1 March 2027 …
    zh: |
      自 2027 年 3 月 1 日起 …
    guide: renew               # optional: a button to a guide (optionally `step: 3`) …
    topic: renewal-how         # … or to an FAQ answer (not both)

Each user gets one delivery row per announcement (unique), so running the same file again
sends nobody a second copy: it sends only what is left (a run cut short) and to users who
opted in since.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Engine as Database
from telegram import Bot

from bot import storage
from bot.dialogue import Engine, Reply
from bot.i18n import language_of
from bot.knowledge import Knowledge
from bot.models import AnnouncementDelivery, utcnow
from bot.reminders import ReminderSender, Summary
from bot.storage import DueDelivery
from bot.telegram.sending import SharedBudget
from bot.textnorm import CJK_RUN
from bot.yamlsrc import Problem, YamlError, line_of, load_located

log = logging.getLogger(__name__)

# Telegram's 4,096 characters, less the title, the footer and room for HTML escaping.
MAX_TEXT = 3500
ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,59}$"


class AnnouncementFile(BaseModel):
    """An announcement file as written (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, pattern=ID_PATTERN)
    en: str = Field(min_length=1, max_length=MAX_TEXT)
    zh: str = Field(min_length=1, max_length=MAX_TEXT)
    guide: str | None = None
    step: int | None = Field(default=None, ge=1)
    topic: str | None = None

    @field_validator("en", "zh")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text is blank")
        return value.strip()


class Announcement(BaseModel):
    """A validated announcement: its key (the file's id, else a hash of its content), both
    texts, and its button ("guide:<id>[:<step>]", "topic:<id>" or None)."""

    model_config = ConfigDict(frozen=True)

    key: str
    en: str
    zh: str
    button: str | None


class AnnouncementError(Exception):
    """The file is not a valid announcement; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_announcement(path: Path, knowledge: Knowledge) -> Announcement:
    """Read and validate an announcement file against the knowledge (its guide, step, topic).

    Raises:
        AnnouncementError: every problem found, as `file:line: message`.
    """
    display = str(path)
    try:
        data = load_located(path, display)
    except YamlError as exc:
        raise AnnouncementError([exc.problem]) from exc
    if not isinstance(data, dict):
        raise AnnouncementError([Problem(display, 1, "expected a mapping with `en` and `zh`")])
    try:
        found = AnnouncementFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "file"
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key (expected id, en, zh, guide, step, topic)"
            problems.append(Problem(display, line_of(data, error["loc"]), f"{where}: {message}"))
        raise AnnouncementError(sorted(problems)) from exc
    problems = _check(found, data, display, knowledge)
    if problems:
        raise AnnouncementError(problems)
    button = None
    if found.guide is not None:
        button = f"guide:{found.guide}" + (f":{found.step}" if found.step else "")
    elif found.topic is not None:
        button = f"topic:{found.topic}"
    return Announcement(key=found.id or _content_key(found.en, found.zh, button),
                        en=found.en, zh=found.zh, button=button)  # fmt: skip


def _check(found: AnnouncementFile, data: Any, display: str, k: Knowledge) -> list[Problem]:
    """What the schema cannot say: the button's target exists, the Chinese is Chinese."""
    problems = []

    def add(key: str, message: str) -> None:
        problems.append(Problem(display, line_of(data, (key,)), f"{key}: {message}"))

    if found.guide is not None and found.topic is not None:
        add("topic", "one button only: a guide or a topic, not both")
    if found.guide is not None:
        guide = k.guides.get(found.guide)
        if guide is None:
            add("guide", f"no guide {found.guide!r} (one of {', '.join(k.guides)})")
        elif found.step is not None and not guide.has_step(found.step):
            add("step", f"the {guide.id} guide has no step {found.step} (1–{guide.total})")
    elif found.step is not None:
        add("step", "a step needs its guide")
    if found.topic is not None and found.topic not in k.faq:
        add("topic", f"no FAQ topic {found.topic!r} (see knowledge/faq/)")
    if not CJK_RUN.search(found.zh):
        add("zh", "the Chinese text has no Chinese in it")
    return sorted(problems)


def _content_key(en: str, zh: str, button: str | None) -> str:
    digest = hashlib.sha256(json.dumps([en, zh, button], ensure_ascii=False).encode())
    return f"sha256-{digest.hexdigest()[:32]}"


class AnnouncementSender(ReminderSender):
    """The reminders' sender over announcement deliveries: the same claims, lease, checks right
    before each send (the user still active and still opted in), pacing and error handling."""

    table = AnnouncementDelivery

    def _claim_due(self, db: Database, **claim: Any) -> Sequence[Any]:
        return storage.claim_due_deliveries(db, **claim)

    def _skip_reasons(self, batch: Sequence[Any], today: date) -> list[str | None]:
        return [None if item.active else "user inactive (blocked the bot)" for item in batch]

    def _render(self, item: DueDelivery, today: date) -> Reply:
        return self.engine.announcement(item.text, item.button, language_of(item.lang))


def dry_run_line(recipients: storage.Recipients, *, key: str) -> str:
    langs = ", ".join(f"{lang} {n}" for lang, n in sorted(recipients.by_lang.items()))
    return (
        f"announcement {key} (dry run): {recipients.total} to send"
        + (f" ({langs})" if langs else "")
        + f", {recipients.already} sent before; nothing sent"
    )


def run(*, path: str, dry_run: bool, rate: float | None) -> int:
    """`python -m bot announce FILE [--dry-run]`: exit status 0 after a run, 1 for a file that
    is not a valid announcement or a database or Bot API that failed, 2 for a setting it cannot
    run with."""
    from sqlalchemy.exc import OperationalError
    from telegram.error import InvalidToken, NetworkError

    from bot.config import Settings
    from bot.knowledge import load_knowledge
    from bot.matching import Matcher
    from bot.redact import configure_logging, settings_secrets
    from bot.reminders import make_bot
    from bot.storage import SchemaError, UnwritableDatabase, create_db_engine, prepare

    os.environ.setdefault("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta
    settings = Settings()
    configure_logging(settings.log_level, secrets=settings_secrets(settings))
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token
    knowledge = load_knowledge()
    try:
        announcement = load_announcement(Path(path), knowledge)
    except AnnouncementError as exc:
        print(exc, file=sys.stderr)
        return 1
    rate = rate if rate is not None else settings.broadcast_rate
    if rate <= 0:
        print(f"the broadcast rate must be positive, not {rate}", file=sys.stderr)
        return 2
    db = create_db_engine(settings.database_url)
    try:
        prepare(db)
        if dry_run:
            recipients = storage.announcement_recipients(db, key=announcement.key)
            print(dry_run_line(recipients, key=announcement.key))
            return 0
        from bot.telegram.app import SetupError, api_urls, bot_token

        try:
            token = bot_token(settings)
        except SetupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        announcement_id = storage.save_announcement(
            db,
            key=announcement.key,
            text_en=announcement.en,
            text_zh=announcement.zh,
            button=announcement.button,
        )
        storage.queue_announcement(db, announcement_id=announcement_id, now=utcnow())
        engine = Engine(knowledge, Matcher(knowledge))
        base_url = settings.telegram_api_base_url
        bot = make_bot(token, base_url=api_urls(base_url)[0] if base_url else None)
        budget = SharedBudget.over(db, token=token, per_second=settings.send_budget)
        summary = asyncio.run(_send(db, engine, bot, rate=rate, budget=budget))
    except (SchemaError, UnwritableDatabase) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except InvalidToken:
        print("error: Telegram refused BOT_TOKEN (revoked or mistyped?)", file=sys.stderr)
        return 1
    except NetworkError as exc:
        print(f"error: cannot reach the Bot API: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(f"error: the database failed: {exc.orig}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(summary.line(f"announcement {announcement.key}"))
    return 1 if summary.undone else 0


async def _send(
    db: Database, engine: Engine, bot: Bot, *, rate: float, budget: SharedBudget | None
) -> Summary:
    """One run of the announcement sender against `bot` (initialised and shut down here)."""
    async with bot:
        return await AnnouncementSender(db, engine, bot, rate=rate, budget=budget).run()
