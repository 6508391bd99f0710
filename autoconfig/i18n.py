"""The visitor's language, and the catalogs that translate phrases into it.

``?lang=`` (the page's language links) wins, then the browser's ``Accept-Language``,
then English. Catalogs are Babel ``.po``/``.mo`` files under ``translations/`` in this
package (compiled by ``make translations``; see ``docs/contributing.md``). The answers
(a profile's texts) and the page (its phrases; its templates through Flask-Babel) read
the same catalogs; nothing here needs a web framework.
"""

from __future__ import annotations

from pathlib import Path

from babel.support import Translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from autoconfig.phrases import Translator

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DEFAULT_LANGUAGE = "en"
# BCP 47 tag -> the language's own name, as the language switch shows it.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "nl": "Nederlands",
    "pt-BR": "Português (Brasil)",
    "pl": "Polski",
    "ja": "日本語",
}
_BY_LOWER = {tag.lower(): tag for tag in LANGUAGES}
_BY_PRIMARY = {tag.split("-")[0].lower(): tag for tag in LANGUAGES}
MAX_TAG_LENGTH = 35  # RFC 5646 section 4.4.1: 35 characters hold any useful tag


def match_language(tag: str) -> str | None:
    """Our language for a tag: exact (pt-BR, pt_br) or by its primary subtag (de-AT: de)."""
    if len(tag) > MAX_TAG_LENGTH:
        return None
    lowered = tag.strip().replace("_", "-").lower()
    return _BY_LOWER.get(lowered) or _BY_PRIMARY.get(lowered.split("-")[0])


def language_of(chosen: str, accept_language: str) -> str:
    """The BCP 47 tag to answer in: ``chosen`` (the ``lang`` query parameter) if we have
    it, else the first acceptable language of the ``Accept-Language`` header we have."""
    picked = match_language(chosen)
    if picked:
        return picked
    if accept_language:
        for tag, quality in parse_accept_header(accept_language, LanguageAccept):
            if quality > 0:
                match = match_language(tag)
                if match:
                    return match
    return DEFAULT_LANGUAGE


def babel_locale(language: str) -> str:
    """Babel's name of one of ``LANGUAGES`` (pt-BR is pt_BR)."""
    return language.replace("-", "_")


class Translators:
    """One gettext function per language, loaded from the catalogs when first asked for
    and kept for the process (one dict read per request after that)."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: dict[str, Translator] = {}

    def __call__(self, language: str) -> Translator:
        """The gettext function of ``language`` (one of ``LANGUAGES``)."""
        translate = self._kept.get(language)
        if translate is None:
            catalog = Translations.load(str(TRANSLATIONS_DIR), [babel_locale(language)])
            translate = self._kept[language] = catalog.gettext
        return translate
