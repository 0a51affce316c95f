"""Locale names: which Babel locale renders dates and numbers for a user's language code.

(A later issue adds the gettext catalogues for UI strings here.)
"""

from __future__ import annotations

ZH_LOCALE = "zh_Hant_TW"
EN_LOCALE = "en"


def babel_locale(code: str | None) -> str:
    """The Babel locale for a language code from Telegram, the CLI or stored settings.

    Babel silently falls back to English for a locale name it half-understands, so every Chinese
    code (zh, zh-hant, zh-TW, zh_HK, zh-Hans…) maps explicitly to `zh_Hant_TW`: the bot speaks
    only Traditional Chinese as used in Taiwan, which beats English for any Chinese reader.
    Everything else, including None and "", is English.
    """
    primary = (code or "").strip().replace("_", "-").split("-")[0].lower()
    return ZH_LOCALE if primary == "zh" else EN_LOCALE
