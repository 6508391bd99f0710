"""Prepared answers: the identity-keyed memo, the cutting at markers, and the escaping
that must be exactly what lxml and plistlib write."""

from __future__ import annotations

import plistlib
from dataclasses import replace

import pytest
from lxml import etree

from autoconfig.domains.records import DomainConfig
from autoconfig.domains.registry import load_directory
from autoconfig.render.prepared import ByRecord, Slotted, escape_text, marker
from tests.support.paths import DOMAINS

TEXTS = [
    "", "plain", "a&b", "<tag>", "]]>", "&amp;", "o'neil \"quoted\"", "jürgen", "日本語",
    "emoji \U0001f600", "%EMAILADDRESS%", "a b", "x" * 300,
]
ODD_TEXTS = ["tab\there", "line\nbreak", "carriage\rreturn", "\r\n", "nul\x00", "esc\x1b",
             "line\u2028separator", "bidi\u202e", "private\ue000"]


def _lxml_text(value: str) -> bytes:
    element = etree.Element("e")
    element.text = value
    return etree.tostring(element, encoding="utf-8").removeprefix(b"<e>").removesuffix(b"</e>")


def _plist_text(value: str) -> bytes:
    document = plistlib.dumps(value, fmt=plistlib.FMT_XML)
    start = document.index(b"<string>") + len(b"<string>")
    return document[start:document.index(b"</string>")]


@pytest.mark.parametrize("value", TEXTS)
def test_plain_text_is_escaped_as_lxml_and_plistlib_write_it(value: str) -> None:
    assert escape_text(value) == _lxml_text(value) == _plist_text(value)


@pytest.mark.parametrize("value", ODD_TEXTS)
def test_other_text_is_left_to_the_serializers(value: str) -> None:
    assert escape_text(value) is None


def test_a_document_is_cut_at_its_markers_and_filled_in_one_pass() -> None:
    document = f"<a>{marker('one')}x{marker('two')}</a><b>{marker('one')}</b>".encode()
    slotted = Slotted.cut(document, {"one", "two"})
    assert slotted is not None
    # A value that looks like a marker is not replaced again.
    filled = slotted.fill({"one": b"1", "two": marker("one").encode()})
    assert filled == f"<a>1x{marker('one')}</a><b>1</b>".encode()


def test_a_document_with_unknown_or_broken_markers_is_not_cut() -> None:
    assert Slotted.cut(f"<a>{marker('one')}</a>".encode(), {"two"}) is None
    broken = marker("one").replace("_", "&amp;")  # as if a serializer had changed it
    assert Slotted.cut(f"<a>{broken}</a>".encode(), {"one"}) is None
    assert Slotted.cut(f"<a>{marker('one')}</a>".encode(), {"one", "unused"}) is not None
    assert Slotted.cut(b"<a>nothing</a>", set()) == Slotted((b"<a>nothing</a>",), ())


def test_a_marker_name_cannot_run_into_the_text_after_it() -> None:
    slotted = Slotted.cut(f"{marker('login')}xample_".encode(), {"login"})
    assert slotted is not None
    assert slotted.fill({"login": b"L"}) == b"Lxample_"
    with pytest.raises(ValueError, match="slot name"):
        marker("Upper_case")


def _record() -> DomainConfig:
    config = load_directory(DOMAINS).lookup("example.com")
    assert config is not None
    return config


def test_the_memo_knows_a_record_by_identity_not_by_value() -> None:
    memo: ByRecord[str] = ByRecord()
    config = _record()
    equal_copy = replace(config)
    assert equal_copy == config
    assert equal_copy is not config
    assert memo.get(config, "k", lambda: "first") == "first"
    assert memo.get(config, "k", lambda: "again") == "first"
    assert memo.get(config, "other", lambda: "other") == "other"
    assert memo.get(equal_copy, "k", lambda: "copy") == "copy"
    other_file = replace(config, source="other.yaml")
    assert memo.get(other_file, "k", lambda: "other file") == "other file"
    assert memo.get(equal_copy, "k", lambda: "again") == "copy"
    assert memo.get(other_file, "k", lambda: "again") == "other file"
    assert len(memo) == 2  # config's own two: replaced by the copy from the same file


def test_a_replaced_record_is_forgotten_when_its_file_has_a_new_one() -> None:
    memo: ByRecord[str] = ByRecord()
    config = _record()
    memo.get(config, "k", lambda: "first")
    memo.get(config, "other", lambda: "other")
    edited = replace(config, name="Edited")  # a reload of the same file
    assert memo.get(edited, "k", lambda: "edited") == "edited"
    assert len(memo) == 1
    assert memo.get(edited, "k", lambda: "again") == "edited"
    # A request still on the old snapshot gets the old record's own answer.
    assert memo.get(config, "k", lambda: "first, again") == "first, again"
