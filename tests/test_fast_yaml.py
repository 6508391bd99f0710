"""The fast YAML reader (yaml-rs) never reads a domain file differently from PyYAML.

Its answer is either what PyYAML's YAML 1.1 gives, or "not certain" (the loader then
asks PyYAML). These tests put the values that YAML 1.1 and 1.2 read differently
(https://yaml.org/spec/1.2.2/ext/changes/, PyYAML's resolver) in every way a file can
write them, and compare with PyYAML itself.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from autoconfig.domains import fast_yaml
from autoconfig.domains.load import MAX_DEPTH, parse_yaml
from tests.support.domain_files import CUSTOMER

BUNDLED = sorted((Path(__file__).parent.parent / "domains").glob("*.yaml"))

# Values that YAML 1.1 (PyYAML) and 1.2 (yaml-rs) may read differently, and ordinary ones.
SCALARS = [
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "n",
    "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~", "",
    "0", "7", "993", "-12", "+12", "0993", "0755", "00", "0o17", "0O17", "0x1F", "0x1_F",
    "0b101", "1_000", "1:30", "190:20:30", "1.5", "1.", ".5", "1e3", "1.0e3", "1.0e+3",
    "-1.5e-3", ".inf", "-.Inf", ".nan", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
    "=", "<<", "tls", "starttls", "none", "mail.%EMAILDOMAIN%", "%EMAILADDRESS%",
    "imap.example.org", "10.0.0.1", "Customer 7", "It's on", "ja", "1.example",
]
STYLES = ["{}", "'{}'", '"{}"']  # plain, single-quoted, double-quoted


def pyyaml(text: str) -> Any:
    """What the loader's PyYAML way reads, or the exception it raises."""
    try:
        return parse_yaml(text, "test.yaml")[0]
    except ValueError as error:
        return error


def assert_never_differs(text: str) -> None:
    fast = fast_yaml.parse(text, MAX_DEPTH)
    if fast is fast_yaml.NOT_CERTAIN:
        return
    reference = pyyaml(text)
    assert not isinstance(reference, Exception), f"PyYAML refuses {text!r}: {reference}"
    assert fast == reference, text
    assert [type(v) for v in _leaves(fast)] == [type(v) for v in _leaves(reference)], text


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in (k, *_leaves(v))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


@pytest.mark.parametrize("scalar", SCALARS)
def test_a_value_is_read_as_pyyaml_reads_it_in_every_style_and_place(scalar: str) -> None:
    for style in STYLES:
        written = style.format(scalar)
        for document in (
            f"name: {written}\n",
            f"domains: [{written}, b]\n",
            f"domains:\n  - {written}\n",
            f"incoming:\n  - {{host: {written}, port: 993}}\n",
            f"{written}: x\n" if written else "x: y\n",
            f"# a comment: {scalar}\nname: {written}  # {scalar}\n",
        ):
            assert_never_differs(document)


def test_pairs_of_values_in_one_file_are_read_as_pyyaml_reads_them() -> None:
    for first, second in itertools.combinations(SCALARS, 2):
        assert_never_differs(f"a: {first or '~'}\nb:\n  - {second or '~'}\n  - 443\n")


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # a duplicate key: PyYAML's message has its line
        "a: [1, 2\nb: 3\n",  # a syntax error
        "a: &x [1, 2]\nb: *x\n",  # aliases: PyYAML counts what they expand to
        "base: &b {x: 1}\nm:\n  <<: *b\n",  # a merge key (YAML 1.1 only)
        "a: !!python/object:os.system x\n",  # a tag SafeLoader refuses
        "a: !custom x\n",  # a tag yaml-rs would ignore
        "%YAML 1.1\n---\na: yes\n",  # a directive
        "a: 1\n---\nb: 2\n",  # two documents
        "- a\n- b\n",  # not a mapping
        "plain text\n",
        "a: x\x00y\n",  # NUL: yaml-rs cuts the value there
        "a: x\x07y\n",  # a control character PyYAML refuses
        "a: x\x85y\n",  # NEL: a line break in YAML 1.1 only
        "\ufeffa: 1\n",  # a byte order mark
        "1: a\n2: b\n",  # keys that are not strings
        "a: 1.5\n",  # floats: no domain file has one
        "a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n",  # too deep
    ],
)
def test_what_only_pyyaml_can_read_or_explain_is_left_to_it(text: str) -> None:
    assert fast_yaml.parse(text, MAX_DEPTH) is fast_yaml.NOT_CERTAIN


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_the_bundled_domain_files_take_the_fast_way_and_read_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = fast_yaml.parse(text, MAX_DEPTH)
    assert fast is not fast_yaml.NOT_CERTAIN
    assert fast == pyyaml(text)


def test_a_hosters_generated_file_takes_the_fast_way() -> None:
    text = CUSTOMER.format(i=7)
    assert fast_yaml.parse(text, MAX_DEPTH) == pyyaml(text)
