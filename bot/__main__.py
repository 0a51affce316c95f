"""The one command line: `python -m bot COMMAND …` (the Procfile and Makefile run these)."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.i18n import LANGUAGES, lang_of
from bot.knowledge import KnowledgeError, check_knowledge, load_knowledge
from bot.textnorm import Lang
from bot.yamlsrc import Problem

if TYPE_CHECKING:
    from sqlalchemy import Engine as Database

    from bot.routing import Router

EXIT_USAGE = 2


def _cmd_check(args: argparse.Namespace) -> int:
    """Validate all content; print `file:line: message` per problem."""
    from bot.i18n import HANS_LOCALE, ZH_LOCALE, catalogue_paths, simplified_catalogue
    from bot.knowledge import KNOWLEDGE_DIR
    from bot.simplified import label_problems

    _, problems = check_knowledge()
    # 简体 keeps every platform label of the Traditional text as the platform shows it.
    root = KNOWLEDGE_DIR.parent
    traditional = [*sorted(KNOWLEDGE_DIR.rglob("*.yaml")), catalogue_paths(ZH_LOCALE)[0]]
    traditional += sorted((root / "bot").rglob("*.py")) + sorted((root / "bot").rglob("*.html"))
    problems += label_problems(traditional, root)
    # The 简体 catalogue is what `make i18n` derives now (not edited, not stale).
    hans_po = catalogue_paths(HANS_LOCALE)[0]
    derived = {m.id: m.string for m in simplified_catalogue() if m.id}
    if not hans_po.exists() or _catalogue_strings(hans_po) != derived:
        where = hans_po.relative_to(root)
        problems.append(Problem(str(where), 1, "not derived from zh_Hant_TW: run `make i18n` "
                                "(or only its step: python -c 'from bot.i18n import "
                                "write_simplified_catalogue as w; w()')"))  # fmt: skip
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("knowledge: ok")
    return 0


def _catalogue_strings(po: Path) -> dict[object, object]:
    from babel.messages.pofile import read_po

    with po.open("rb") as fp:
        return {m.id: m.string for m in read_po(fp) if m.id}


def _cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question (argument) or one per stdin line, as text or JSON lines."""
    from bot.matching import Matcher
    from bot.routing import Router

    knowledge = load_knowledge()
    router = Router(knowledge, Matcher(knowledge))
    if args.question is not None:
        questions: Iterable[str] = [" ".join(args.question)]
        if not any(q.strip() for q in questions):
            print('usage: python -m bot ask "QUESTION" [--json]  (the question is empty)',
                  file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
    elif sys.stdin.isatty():
        return _ask_loop(router, as_json=args.json, reader=args.lang)
    else:
        questions = (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        print(_ask_one(router, question, as_json=args.json, reader=args.lang), flush=True)
    return 0


def _ask_one(router: Router, question: str, *, as_json: bool, reader: str | None = None) -> str:
    """One question routed as the chat would, as a JSON line or the plain-text reply; a Chinese
    reply in 简体 for a `reader` of zh-hans or, without one, a question in Simplified."""
    from bot.ask_output import route_json, route_text, shown_language
    from bot.dates import taipei_today
    from bot.i18n import showing
    from bot.textnorm import strip_controls

    today = taipei_today()
    route = router.route(strip_controls(question), today=today)  # as at every other edge
    shown = shown_language(route, reader)
    if as_json:
        return json.dumps(route_json(route, router.knowledge, shown=shown), ensure_ascii=False)
    with showing(shown):
        return route_text(route, router.knowledge, today=today, shown=shown)


def _ask_loop(router: Router, *, as_json: bool, reader: str | None) -> int:
    """An interactive question prompt (Ctrl-D or 'quit' to leave)."""
    print("Gold Card help desk — ask a question in English or 中文 (Ctrl-D to quit).")
    while True:
        try:
            question = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if question.strip().lower() in {"quit", "exit", "q"}:
            return 0
        if not question.strip():
            continue
        reply = _ask_one(router, question, as_json=as_json, reader=reader)
        print(reply, end="\n" if as_json else "\n\n")


def _cmd_guide(args: argparse.Namespace) -> int:
    """Print a step-by-step guide (all steps, or one), as text or JSON."""
    from bot.guides import guide_as_json, guide_as_text

    guides = load_knowledge().guides
    if args.id not in guides:
        print(f"unknown guide {args.id!r}; guides: {', '.join(guides)}", file=sys.stderr)
        return EXIT_USAGE
    guide = guides[args.id]
    step = int(args.step) if args.step and args.step.isdigit() else None
    if args.step is not None and (step is None or not guide.has_step(step)):
        print(f"guide {guide.id!r} has steps 1–{guide.total}, not {args.step}", file=sys.stderr)
        return EXIT_USAGE
    lang, shown = _content_and_script(args.lang)
    if args.json:
        print(json.dumps(_shown_json(guide_as_json(guide, lang, step), shown), ensure_ascii=False))
    else:
        print(shown(guide_as_text(guide, lang, step)))
    return 0


def _content_and_script(language: str) -> tuple[Lang, Callable[[str], str]]:
    """For a `--lang` of the command line: the content language ("zh" for 简体 too) and what
    shows a Chinese text of it (`bot.simplified.to_simplified` for zh-hans)."""
    from bot.i18n import HANS, lang_of
    from bot.simplified import to_simplified

    return lang_of(language), to_simplified if language == HANS else str


def _shown_json(value: object, shown: Callable[[str], str]) -> object:
    """`value` (JSON-like) with every string shown through `shown` (ids and URLs are ASCII and
    stay as they are)."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, list):
        return [_shown_json(item, shown) for item in value]
    if isinstance(value, dict):
        return {key: _shown_json(item, shown) for key, item in value.items()}
    return value


# Each kind reads one of these (KINDS[kind].given); argparse stores them with underscores.
_DEADLINE_DATES = ("expiry", "notice", "entry", "moved", "submitted", "passport-expiry", "changed")
_DEADLINE_DATES += ("paid",)  # processing counts from payment; it also takes --submitted


def _cmd_deadlines(args: argparse.Namespace) -> int:
    """Compute personal deadlines from one date: a summary, JSON (--json) or a calendar (--ics)."""
    from bot.i18n import HANS, showing

    with showing(args.lang):  # dates in zh_Hans_CN for zh-hans
        return _deadlines(args, lang=_content_and_script(args.lang)[0], hans=args.lang == HANS)


def _deadlines(args: argparse.Namespace, *, lang: Lang, hans: bool) -> int:
    from datetime import UTC, datetime

    from bot.dates import DateInputError, parse_date, read_date, taipei_today
    from bot.deadline_output import deadlines_ics, summary_text
    from bot.deadlines import KINDS, Profile, compute
    from bot.simplified import to_simplified

    shown = to_simplified if hans else str
    dates = {o: getattr(args, o.replace("-", "_")) for o in _DEADLINE_DATES}
    given = {option: text for option, text in dates.items() if text is not None}
    problem = _deadlines_usage_problem(args.kind, list(given), args.profile)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    option = "today"
    try:
        today = taipei_today()
        today = parse_date(args.today, today=today) if args.today is not None else today
        ((option, text),) = given.items()
        reading = read_date(text, today=today)
    except DateInputError as exc:
        print(f"--{option}: {shown(exc.message(lang))}", file=sys.stderr)
        return EXIT_USAGE
    profile = Profile(args.profile) if args.profile and KINDS[args.kind].profiles else None
    result = compute(args.kind, reading.value, today=today, profile=profile)
    if args.ics:
        calendar = deadlines_ics([result], lang, generated_at=datetime.now(UTC), hans=hans)
        try:
            Path(args.ics).write_bytes(calendar)
        except OSError as exc:
            print(f"--ics: cannot write {args.ics}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    if args.json:
        out = json.dumps(result.as_json(), ensure_ascii=False)
    else:
        out = shown(
            summary_text(result, lang, today=today, roc_year=reading.roc_year, given_as=option)
        )
    try:
        print(out, flush=True)
    except BrokenPipeError:  # `… | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _deadlines_usage_problem(kind: str, options: list[str], profile: str | None) -> str | None:
    """What is wrong with a `deadlines` command line, in one line; None if nothing."""
    from bot.deadlines import KINDS

    if kind not in KINDS:
        return f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}"
    wanted = KINDS[kind].given
    accepted = (wanted, *(option for option, _ in KINDS[kind].also_given))
    if len(options) != 1 or options[0] not in accepted:
        typed = f", not {' '.join('--' + o for o in options)}" if options else ""
        return f"{kind} needs --{wanted} DATE ({KINDS[kind].given_label['en']}){typed}"
    profiles = [p.value for p in KINDS[kind].profiles]
    if kind == "processing" and profile not in profiles:
        typed = f", not {profile!r}" if profile else ""
        return f"processing needs --profile {'|'.join(profiles)}{typed}"
    if profile is not None and profile not in profiles:
        if not profiles:
            return f"{kind} takes no --profile, not {profile!r}"
        return f"{kind} takes --profile {'|'.join(profiles)} only, not {profile!r}"
    return None


def _date_option_help(option: str) -> str:
    """`--expiry`'s help: the kinds that count from it, and what the date is for each."""
    from bot.deadlines import KINDS

    uses = [
        f"{kind.name}: {kind.given_as(option)['en']}"
        for kind in KINDS.values()
        if option == kind.given or option in dict(kind.also_given)
    ]
    return "; ".join(uses)


def _deadlines_epilog() -> str:
    """Which date each kind counts from (and who applies, where it matters), for --help."""
    from bot.deadlines import KINDS

    lines = ["each kind needs one date (any common form; ROC years such as 116/06/30 too):"]
    for kind in KINDS.values():
        needs = " or ".join(
            [f"--{kind.given} DATE ({kind.given_label['en']})"]
            + [f"--{option} DATE" for option, _ in kind.also_given]
        )
        lines.append(f"  {kind.name} {needs}")
    lines.append("--profile (who applies):")
    lines.append("  processing: " + ", ".join(p.value for p in KINDS["processing"].profiles)
                 + " (required)")  # fmt: skip
    lines.append("  renewal: " + ", ".join(p.value for p in KINDS["renewal"].profiles)
                 + " (optional: Hong Kong / Macau residents, who should apply as soon as the"
                 " window opens)")  # fmt: skip
    return "\n".join(lines)


def _cmd_main(args: argparse.Namespace) -> int:
    """The main job on its embedded defaults (what `make run` starts): the Telegram bot by long
    polling when BOT_TOKEN is set, the terminal chat without one."""
    from bot.config import Settings

    if Settings().bot_token is not None:
        return _cmd_run(args)
    return _cmd_console(argparse.Namespace(lang=None, start="", user=None))


def _cmd_run(args: argparse.Namespace) -> int:
    """Run the Telegram bot by long polling (BOT_TOKEN; the Procfile's worker)."""
    return _serve(webhook_port=None)


def _cmd_webhook(args: argparse.Namespace) -> int:
    """Run the Telegram bot behind a webhook (WEBHOOK_URL, WEBHOOK_SECRET; the Procfile's web)."""
    return _serve(webhook_port=args.port, listen=args.listen)


def _serve(*, webhook_port: int | None, listen: str = "0.0.0.0") -> int:
    """Build the bot and run it until interrupted; a setting it cannot run with is one line."""
    import logging

    from telegram.error import InvalidToken, NetworkError

    from bot.config import Settings
    from bot.redact import configure_logging, settings_secrets
    from bot.storage import SchemaError, UnwritableDatabase
    from bot.telegram.app import (
        QuietRefusedToken,
        SetupError,
        build_application,
        run_polling,
        run_webhook,
        webhook_settings,
    )
    from bot.telegram.handlers import STOPPED_BY

    settings = Settings()
    configure_logging(settings.log_level, secrets=settings_secrets(settings))
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token
    logging.getLogger("telegram.ext").addFilter(QuietRefusedToken())
    try:
        if webhook_port is not None:
            webhook_settings(settings)  # fail before loading anything
        application = build_application(settings)
        if webhook_port is None:
            run_polling(application)
        else:
            run_webhook(application, settings, port=webhook_port, listen=listen)
    except (SetupError, SchemaError, UnwritableDatabase) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidToken:
        print("error: Telegram refused BOT_TOKEN (revoked or mistyped?); "
              "@BotFather shows the current one", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    except NetworkError as exc:
        print(f"error: cannot reach the Bot API: {exc}", file=sys.stderr)
        return 1
    if stopped_by := application.bot_data.get(STOPPED_BY):  # e.g. its database file deleted
        print(f"error: {stopped_by}", file=sys.stderr)
        return 1
    return 0


def _cmd_links(args: argparse.Namespace) -> int:
    """Print every deep link with its title, one per line (answers, guides, steps, calculators)."""
    import re

    from bot import links

    username = args.bot_username.removeprefix("@")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", username):
        print(f"--bot-username: {username!r} is not a Telegram bot username", file=sys.stderr)
        return EXIT_USAGE
    knowledge = load_knowledge()
    langs = ("en", "zh") if args.lang == "both" else (args.lang,)
    try:
        for target in links.all_targets(knowledge):
            titles = [
                _title(links.title(target, knowledge, lang_of(lang)), lang) for lang in langs
            ]
            print("\t".join([links.deep_link(username, target), *titles]))
    except BrokenPipeError:  # `… | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _title(title: str, language: str) -> str:
    from bot.i18n import HANS
    from bot.simplified import to_simplified

    return to_simplified(title) if language == HANS else title


def _cmd_console(args: argparse.Namespace) -> int:
    """Chat with the bot in the terminal (same engine and database as Telegram)."""
    import contextlib

    from bot.config import Settings
    from bot.console import COLOURS, CONSOLE_USER_ID, PLAIN, Console, echo_input, wants_colour
    from bot.dialogue import Engine
    from bot.learning import LiveMatcher
    from bot.redact import configure_logging
    from bot.storage import (
        DatabaseFileGone,
        SchemaError,
        UnwritableDatabase,
        create_db_engine,
        prepare,
    )

    settings = Settings()
    configure_logging("WARNING")  # the terminal is the chat: only problems go to stderr
    db = create_db_engine(settings.database_url)
    try:
        prepare(db)
    except (SchemaError, UnwritableDatabase) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    knowledge = load_knowledge()
    matcher = LiveMatcher(knowledge, db)
    matcher.watch()  # what staff teach from the inbox, within a minute
    console = Console(
        db,
        Engine(knowledge, matcher),  # type: ignore[arg-type]
        style=COLOURS if wants_colour(sys.stdout) else PLAIN,
        user_id=CONSOLE_USER_ID if args.user is None else args.user,
        language=args.lang or os.environ.get("LC_ALL") or os.environ.get("LANG"),
    )
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    try:
        if not sys.stdin.isatty():
            return console.run(echo_input, payload=args.start)
        return console.run(payload=args.start)
    except DatabaseFileGone as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1


def _cmd_remind(args: argparse.Namespace) -> int:
    """Send every deadline reminder due by now, once, then exit with a summary (cron)."""
    from bot.reminders import run

    return run(dry_run=args.dry_run, now=args.now, rate=args.rate)


def _cmd_stats(args: argparse.Namespace) -> int:
    """Print the help desk's figures per week, each language apart (see README: For the help
    desk)."""
    import json
    from datetime import date

    from sqlalchemy.exc import OperationalError

    from bot import stats
    from bot.config import Settings
    from bot.redact import configure_logging
    from bot.storage import SchemaError, UnwritableDatabase, create_db_engine, prepare

    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(f"--since: {args.since!r} is not a date (2026-11-30)", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings()
    configure_logging("WARNING")
    db = create_db_engine(settings.database_url)
    try:
        prepare(db)
        report = stats.weekly(db, since=since)
        if args.chart:
            with open(args.chart, "wb") as out:
                out.write(stats.chart_png(report))
    except (SchemaError, UnwritableDatabase) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OperationalError as exc:
        print(f"error: the database failed: {exc.orig}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"--chart: cannot write {args.chart}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        print(stats.report_text(report))
    return 0


def _database() -> Database:
    """The database of DATABASE_URL, ready (SQLite migrated).

    Raises:
        SchemaError, UnwritableDatabase: it is not.
    """
    from bot.config import Settings
    from bot.storage import create_db_engine, prepare

    db = create_db_engine(Settings().database_url)
    prepare(db)
    return db


def _cmd_inbox(args: argparse.Namespace) -> int:
    """The help desk's inbox: unanswered questions and 👎 answers since a date, grouped by
    similarity, with counts, the best topics and the language (as /inbox shows them)."""
    from datetime import datetime, time, timedelta

    from bot import inbox
    from bot.dates import TAIPEI, DateInputError, parse_date, taipei_today
    from bot.learning import LiveMatcher
    from bot.redact import configure_logging
    from bot.storage import SchemaError, UnwritableDatabase

    configure_logging("WARNING")
    today = taipei_today()
    try:
        day = parse_date(args.since, today=today) if args.since else today - timedelta(days=30)
    except DateInputError as exc:
        print(f"--since: {exc.message('en')}", file=sys.stderr)
        return EXIT_USAGE
    try:
        db = _database()
    except (SchemaError, UnwritableDatabase) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    knowledge = load_knowledge()
    since = datetime.combine(day, time(), tzinfo=TAIPEI)
    groups = inbox.open_inbox(db, LiveMatcher(knowledge, db), since=since)  # type: ignore[arg-type]
    if args.json:
        out = {"since": day.isoformat(), "groups": [g.as_json(knowledge) for g in groups]}
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(inbox.inbox_text(groups, knowledge, since=since))
    return 0


def _cmd_learned(args: argparse.Namespace) -> int:
    """Learned questions: `export` writes them into the knowledge files' sample questions
    (negatives into out_of_scope.yaml) for review in git, then checks the content."""
    from pathlib import Path

    from bot import learning
    from bot.redact import configure_logging
    from bot.storage import SchemaError, UnwritableDatabase

    configure_logging("WARNING")
    try:
        db = _database()
    except (SchemaError, UnwritableDatabase) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    root = Path(args.knowledge) if args.knowledge else learning.KNOWLEDGE_DIR
    try:
        report = learning.export(db, root)
    except learning.ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path, count in sorted(report.written.items()):
        print(f"{path}: {count} question(s) added")
    for skipped in report.skipped:
        print(f"left out: {skipped}")
    print(f"learned questions: {report.total} exported, {report.already} already in the files, "
          f"{len(report.skipped)} left out")  # fmt: skip
    for problem in report.problems:
        print(problem)
    return 1 if report.problems else 0


def _cmd_announce(args: argparse.Namespace) -> int:
    """Send an announcement (a YAML file: en, zh, optionally a guide or topic button) once to
    every active user who turned on news in /settings, paced like reminders."""
    from bot.announcements import run

    return run(path=args.file, dry_run=args.dry_run, rate=args.rate)


def _cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade the database (DATABASE_URL) to the latest migration."""
    from sqlalchemy.exc import OperationalError

    from bot.config import Settings
    from bot.redact import configure_logging
    from bot.storage import create_db_engine, migrate

    settings = Settings()
    configure_logging(settings.log_level)
    try:
        revision = migrate(create_db_engine(settings.database_url))
    except OperationalError as exc:  # a read-only file or folder, a database that is not there
        print(f"error: cannot migrate the database: {exc.orig}", file=sys.stderr)
        return EXIT_USAGE
    print(f"database: at migration {revision}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        # The docstring's first paragraph, whatever its line breaks (argparse rewraps it).
        doc = " ".join(inspect.getdoc(func).split("\n\n")[0].split()) if func.__doc__ else ""
        cmd = sub.add_parser(name, help=doc, description=doc)
        cmd.set_defaults(func=func)
        return cmd

    add("main", _cmd_main)
    add("check", _cmd_check)
    console = add("console", _cmd_console)
    console.add_argument("--lang", help="your language as Telegram would send it (zh-hant, "
                         "zh-hans, en)")  # fmt: skip
    console.add_argument("--start", default="", metavar="PAYLOAD", help="open a deep link")
    console.add_argument("--user", type=int, help="chat as another user id (default 0)")
    add("migrate", _cmd_migrate)
    inbox = add("inbox", _cmd_inbox)
    inbox.add_argument("--since", metavar="DATE", help="default: 30 days ago (Asia/Taipei)")
    inbox.add_argument("--json", action="store_true", help="the groups as one JSON object")
    learned = add("learned", _cmd_learned)
    learned.add_argument("action", choices=("export",), help="export: into the knowledge files")
    learned.add_argument("--knowledge", metavar="DIR", help="the knowledge folder to write "
                         "(default: the project's knowledge/)")  # fmt: skip
    remind = add("remind", _cmd_remind)
    remind.add_argument("--dry-run", action="store_true", help="list what is due; send nothing")
    remind.add_argument("--now", metavar="ISO", help="the clock, e.g. 2027-02-28T10:00 "
                        "(Asia/Taipei unless an offset is given); default: now")  # fmt: skip
    remind.add_argument("--rate", type=float, metavar="N",
                        help="messages a second (default: BROADCAST_RATE, else 25)")  # fmt: skip
    announce = add("announce", _cmd_announce)
    announce.add_argument("file", metavar="FILE", help="the announcement (YAML)")
    announce.add_argument("--dry-run", action="store_true",
                          help="check the file, count the recipients, send nothing")  # fmt: skip
    announce.add_argument("--rate", type=float, metavar="N",
                          help="messages a second (default: BROADCAST_RATE, else 25)")  # fmt: skip
    add("run", _cmd_run)
    stats = add("stats", _cmd_stats)
    stats.add_argument("--since", metavar="DATE", help="from this date's week (default: the "
                       "last 8 weeks)")  # fmt: skip
    stats.add_argument("--json", action="store_true", help="the figures as one JSON object")
    stats.add_argument("--chart", metavar="FILE", help="also write the chart (PNG)")
    webhook = add("webhook", _cmd_webhook)
    webhook.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8443),
                         help="port to listen on (default: $PORT, else 8443)")  # fmt: skip
    webhook.add_argument("--listen", default="0.0.0.0", help="address to listen on")
    links = add("links", _cmd_links)
    links.add_argument("--bot-username", required=True, metavar="NAME", help="the bot's @name")
    links.add_argument("--lang", choices=("en", "zh", "zh-hans", "both"), default="both",
                       help="title language(s), tab-separated after the link")  # fmt: skip
    ask = add("ask", _cmd_ask)
    ask.add_argument("question", nargs="*", default=None, help="the question (else stdin)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--lang", choices=LANGUAGES, help="the reader's language: a Chinese "
                     "reply in 简体 for zh-hans, 繁體 for zh (default: as the question is "
                     "written)")  # fmt: skip
    guide = add("guide", _cmd_guide)
    guide.add_argument("id", help="apply, progress, supplement, change or renew")
    guide.add_argument("--lang", choices=LANGUAGES, default="en")
    guide.add_argument("--step", metavar="N", help="print only step N")
    guide.add_argument("--json", action="store_true", help="the guide as one JSON object")
    deadlines = add("deadlines", _cmd_deadlines)
    deadlines.epilog = _deadlines_epilog()
    deadlines.formatter_class = argparse.RawDescriptionHelpFormatter
    deadlines.add_argument("kind", metavar="KIND", help="renewal, supplement, pickup, address, "
                           "domestic-stay, passport, password or processing")  # fmt: skip
    for option in _DEADLINE_DATES:
        deadlines.add_argument(f"--{option}", metavar="DATE", help=_date_option_help(option))
    deadlines.add_argument("--today", metavar="DATE", help="default: today in Asia/Taipei")
    deadlines.add_argument("--profile", help="who applies: processing (required): abroad, "
                           "domestic, hk-macau, renewal, renewal-hk-macau; renewal (optional): "
                           "hk-macau")  # fmt: skip
    deadlines.add_argument("--lang", choices=LANGUAGES, default="en")
    deadlines.add_argument("--json", action="store_true", help="the dates as one JSON object")
    deadlines.add_argument("--ics", metavar="FILE", help="also write an iCalendar file")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "question", None) == []:
        args.question = None
    try:
        return args.func(args)
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
