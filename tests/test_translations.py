"""The languages of the settings page: every catalog complete, placeholders and markup kept.

The catalogs are Babel ``.po`` files (autoconfig/translations/<locale>/LC_MESSAGES/);
``make translations`` extracts the English texts into messages.pot and merges them.
These tests read the files as pybabel does and fail on any message a visitor would
see in English (or broken) inside a translated page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from autoconfig.i18n import LANGUAGES, match_language
from autoconfig.phrases import Phrase
from tests.support.paths import REPO

TRANSLATIONS = REPO / "autoconfig" / "translations"
LOCALES = sorted(tag.replace("-", "_") for tag in LANGUAGES if tag != "en")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# Tags only: entities may differ (Apple: "Datenschutz & Sicherheit", "Privacidad y seguridad").
MARKUP = re.compile(r"</?[a-z]+>")


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def template_ids() -> set[str]:
    return {message.id for message in read_catalog(TRANSLATIONS / "messages.pot") if message.id}


def test_the_language_switch_and_the_catalogs_name_the_same_languages() -> None:
    folders = sorted(path.name for path in TRANSLATIONS.iterdir() if path.is_dir())
    assert folders == LOCALES
    assert len(LANGUAGES) == 9  # en, de, fr, es, it, nl, pt-BR, pl, ja


def test_the_template_holds_every_text_of_the_code(tmp_path: Path) -> None:
    """A text added to the page or an error without `make translations` fails here."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).with_name("pybabel")), "extract", "-F",
         "babel.cfg", "-k", "Phrase", "--no-location", "-o", str(fresh), "."],
        cwd=REPO, check=True, capture_output=True,
    )
    extracted = {message.id for message in read_catalog(fresh) if message.id}
    assert extracted == template_ids()
    assert "Set up your mail" in extracted and "the address has no '@'" in extracted


@pytest.mark.parametrize("locale", LOCALES)
def test_every_catalog_translates_every_message(locale: str) -> None:
    catalog = read_catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
    messages = [message for message in catalog if message.id]
    assert {message.id for message in messages} == template_ids()
    untranslated = [message.id for message in messages if not message.string]
    fuzzy = [message.id for message in messages if message.fuzzy]
    assert (untranslated, fuzzy) == ([], [])
    assert catalog.obsolete == {}
    assert list(catalog.check()) == []  # pybabel's python-format checks


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_and_markup(locale: str) -> None:
    catalog = read_catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
    for message in catalog:
        if not message.id:
            continue
        assert isinstance(message.id, str) and isinstance(message.string, str)
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(
            PLACEHOLDER.findall(message.id)
        ), message.id
        assert sorted(MARKUP.findall(message.string)) == sorted(MARKUP.findall(message.id)), (
            message.id
        )


def test_a_phrase_is_english_until_translated_with_its_parameters_inside() -> None:
    reason = Phrase("the domain contains %(char)s", char="'<'")
    phrase = Phrase("invalid email address: %(reason)s", reason=reason)
    assert str(phrase) == "invalid email address: the domain contains '<'"
    german = {
        "invalid email address: %(reason)s": "ungültige E-Mail-Adresse: %(reason)s",
        "the domain contains %(char)s": "die Domain enthält %(char)s",
    }
    translated = phrase.translated(german.__getitem__)
    assert translated == "ungültige E-Mail-Adresse: die Domain enthält '<'"


@pytest.mark.parametrize(("tag", "expected"), [
    ("de", "de"), ("de-AT", "de"), ("DE-de", "de"), ("pt-BR", "pt-BR"), ("pt_br", "pt-BR"),
    ("pt-PT", "pt-BR"), ("pt", "pt-BR"), ("ja-JP", "ja"), ("nl-BE", "nl"), ("zh-CN", None),
    ("", None), ("<script>", None), ("x" * 100, None),
])
def test_language_tags_match_our_languages(tag: str, expected: str | None) -> None:
    assert match_language(tag) == expected
