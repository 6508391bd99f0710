"""The visitor's language for the settings page and the profiles it links to.

``?lang=`` (the page's language links) wins, then the browser's ``Accept-Language``,
then English. Catalogs are Babel ``.po``/``.mo`` files under ``translations/``
(compiled by ``make translations``; see the README), read by Flask-Babel.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import Babel, get_translations
from werkzeug.wrappers import Request

from autoconfig.phrases import Translator

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


def chosen_language() -> str | None:
    """The language the visitor picked with ``?lang=``, if it is one we have."""
    return match_language(request.args.get("lang", ""))


def page_language() -> str:
    """The BCP 47 tag of the language to answer this request in."""
    return language_of(request)


def language_of(asking: Request) -> str:
    """The BCP 47 tag of the language to answer ``asking`` in (outside Flask too: the
    fast path's profiles, autoconfig/web/fast_path.py)."""
    chosen = match_language(asking.args.get("lang", ""))
    if chosen:
        return chosen
    for tag, quality in asking.accept_languages:
        if quality > 0:
            match = match_language(tag)
            if match:
                return match
    return DEFAULT_LANGUAGE


def _babel_locale() -> str:
    return page_language().replace("-", "_")  # Babel names pt-BR pt_BR


def translator() -> Translator:
    """The gettext function of this request's language (for ``Phrase.translated``).

    Kept per language for the app: Flask-Babel's lookup of the same catalogs (locale
    selector, Locale parsing, its cache) cost as much as the rest of a profile request.
    The language is the one ``_babel_locale`` gives Flask-Babel, one of ``LANGUAGES``.
    """
    kept: dict[str, Translator] = current_app.extensions[TRANSLATORS_KEY]
    language = page_language()
    translate = kept.get(language)  # read without Flask by the fast path too
    if translate is None:
        translate = kept[language] = get_translations().gettext
    return translate


TRANSLATORS_KEY = "autoconfig.translators"


def init_app(app: Flask) -> None:
    """Let Flask-Babel find our catalogs and ask us for each request's language."""
    Babel(app, locale_selector=_babel_locale)
    app.extensions[TRANSLATORS_KEY] = {}
