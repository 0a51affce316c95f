"""Languages of the UI: Babel locales, the gettext catalogues and the Jinja2 message templates.

The locale is chosen per call (a reply renders in the language passed in), never process-wide:
`render` puts the catalogue in a ContextVar for the duration of one render only.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.simplified import to_simplified
from bot.textnorm import Lang

ZH_LOCALE = "zh_Hant_TW"
HANS_LOCALE = "zh_Hans_CN"
EN_LOCALE = "en"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

# The languages a user reads: English, 繁體中文 (the source) and 简体中文, derived from it
# (`bot.simplified`). What is stored (`users.language`), chosen and sent; `Lang` ("zh" | "en") is
# the content a text is taken from and what a question is written in, so 简体 is "zh" there.
Language = Literal["en", "zh", "zh-hans"]
LANGUAGES: tuple[Language, ...] = ("en", "zh", "zh-hans")
HANS: Language = "zh-hans"
# Telegram language codes (and region subtags) of Simplified Chinese readers: zh-hans, zh-cn,
# zh-sg, zh-my; any other Chinese code (zh, zh-hant, zh-tw, zh-hk…) reads Traditional.
_HANS_SUBTAGS = frozenset({"hans", "cn", "sg", "my"})


def language_of(code: str | None) -> Language:
    """The language to show for a language code from Telegram, the CLI or stored settings.

    Babel silently falls back to English for a locale name it half-understands, so every Chinese
    code maps explicitly: a Simplified script or a region that writes it (zh-Hans, zh-CN, zh_SG,
    zh-MY) to 简体, every other Chinese code (zh, zh-hant, zh-TW, zh_HK…) to 繁體 as used in
    Taiwan (a script tag beats a region: zh-Hant-CN is Traditional). Everything else, including
    None and "", is English.
    """
    # A POSIX locale (zh_CN.UTF-8, for the terminal chat) says the same before its encoding.
    parts = re.split(r"[.@]", (code or "").strip())[0].replace("_", "-").lower().split("-")
    if parts[0] != "zh":
        return "en"
    if "hant" in parts[1:]:
        return "zh"
    return HANS if _HANS_SUBTAGS.intersection(parts[1:]) else "zh"


def babel_locale(code: str | None) -> str:
    """The Babel locale for a language code (see `language_of`): `en`, `zh_Hant_TW` or
    `zh_Hans_CN`."""
    return {"en": EN_LOCALE, "zh": ZH_LOCALE, "zh-hans": HANS_LOCALE}[language_of(code)]


def lang_of(code: str | None) -> Lang:
    """The content language for a language code: any Chinese is "zh", anything else "en"."""
    return "en" if language_of(code) == "en" else "zh"


# --- dates in 简体 ---------------------------------------------------------------------------

# While a reply is made for a 简体 reader, Chinese dates are formatted in zh_Hans_CN (the rest
# of the text is converted afterwards, `bot.simplified`); per reply, never process-wide.
_SIMPLIFIED: ContextVar[bool] = ContextVar("simplified", default=False)


@contextmanager
def showing(language: str | None) -> Iterator[None]:
    """Within the block, Chinese dates are shown for readers of `language` (zh_Hans_CN for
    简体, else as `babel_locale` says)."""
    token = _SIMPLIFIED.set(language_of(language) == HANS)
    try:
        yield
    finally:
        _SIMPLIFIED.reset(token)


def date_locale(code: str | None) -> str:
    """The Babel locale dates are formatted in for language `code` ("zh": 繁體, or 简体 inside
    `showing("zh-hans")`)."""
    locale = babel_locale(code)
    return HANS_LOCALE if locale == ZH_LOCALE and _SIMPLIFIED.get() else locale


# --- gettext ---------------------------------------------------------------------------------


def catalogue_paths(locale: str) -> tuple[Path, Path]:
    """The `.po` source and the compiled `.mo` of a locale."""
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


@cache
def translations(lang: Language) -> NullTranslations:
    """The UI catalogue of `lang` ('en', 'zh' or 'zh-hans'), loaded once.

    `make` compiles the `.mo` files; when one is missing or older than its `.po` (a test run
    right after editing a translation) the `.po` is compiled in memory, so a stale binary never
    shows old text and a fresh clone never falls back to English silently.
    """
    po, mo = catalogue_paths(babel_locale(lang))
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=babel_locale(lang))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def simplified_catalogue() -> Catalog:
    """The zh_Hans_CN catalogue, derived from zh_Hant_TW's: every translation converted by
    `bot.simplified` (platform labels, URLs and tags kept, the reviewed overrides applied)."""
    po, _ = catalogue_paths(ZH_LOCALE)
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=ZH_LOCALE)
    catalog.locale = Locale.parse(HANS_LOCALE)
    catalog.language_team = HANS_LOCALE
    catalog.header_comment = (
        "# 简体中文 (zh_Hans_CN), derived from zh_Hant_TW by `make i18n`.\n"
        "# Do not edit: a word converted wrongly goes to bot.simplified.OVERRIDES."
    )
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.string, tuple | list):
            message.string = tuple(to_simplified(s) for s in message.string)
        else:
            message.string = to_simplified(message.string)
    return catalog


def write_simplified_catalogue() -> Path:
    """Write `simplified_catalogue()` to locales/zh_Hans_CN (`make i18n` runs it after merging
    the others; never edited by hand: a wrong word goes to `bot.simplified.OVERRIDES`)."""
    po, _ = catalogue_paths(HANS_LOCALE)
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as fp:
        write_po(fp, simplified_catalogue(), sort_output=True, ignore_obsolete=True)
    return po


# --- templates ---------------------------------------------------------------------------------

_CATALOGUE: ContextVar[NullTranslations] = ContextVar("catalogue")


def _gettext(message: str) -> str:
    return _CATALOGUE.get().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _CATALOGUE.get().ngettext(singular, plural, n)


def _environment() -> Environment:
    """The one template environment: HTML-escaped, strict about undefined names, i18n."""
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=True,  # Telegram's HTML parse mode: everything interpolated is escaped
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


TEMPLATES = _environment()


def render(template: str, lang: Lang, **context: Any) -> str:
    """Render `template` in `lang`; the result is Telegram HTML without outer blank lines."""
    token = _CATALOGUE.set(translations(lang))
    try:
        return TEMPLATES.get_template(template).render(lang=lang, **context).strip()
    finally:
        _CATALOGUE.reset(token)


def template_names() -> Iterator[str]:
    """Every message template (the tests render each in both languages)."""
    return iter(sorted(TEMPLATES.list_templates(extensions=["html"])))
