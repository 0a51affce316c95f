"""Languages of the UI: Babel locales, the gettext catalogues and the Jinja2 message templates.

The locale is chosen per call (a reply renders in the language passed in), never process-wide:
`render` puts the catalogue in a ContextVar for the duration of one render only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.textnorm import Lang

ZH_LOCALE = "zh_Hant_TW"
EN_LOCALE = "en"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def babel_locale(code: str | None) -> str:
    """The Babel locale for a language code from Telegram, the CLI or stored settings.

    Babel silently falls back to English for a locale name it half-understands, so every Chinese
    code (zh, zh-hant, zh-TW, zh_HK, zh-Hans…) maps explicitly to `zh_Hant_TW`: the bot speaks
    only Traditional Chinese as used in Taiwan, which beats English for any Chinese reader.
    Everything else, including None and "", is English.
    """
    primary = (code or "").strip().replace("_", "-").split("-")[0].lower()
    return ZH_LOCALE if primary == "zh" else EN_LOCALE


def lang_of(code: str | None) -> Lang:
    """The bot's language for a Telegram language code: zh-* is Chinese, anything else English."""
    return "zh" if babel_locale(code) == ZH_LOCALE else "en"


# --- gettext ---------------------------------------------------------------------------------


def catalogue_paths(locale: str) -> tuple[Path, Path]:
    """The `.po` source and the compiled `.mo` of a locale."""
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


@cache
def translations(lang: Lang) -> NullTranslations:
    """The UI catalogue of `lang` ('zh' or 'en'), loaded once.

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
