"""The one address parser every endpoint uses (pure function tests)."""

from __future__ import annotations

import itertools
import re

import pytest

from autoconfig.address import (
    AddressError,
    _is_plain_ascii,
    host_without_port,
    normalize_domain,
    parse_address,
    plain_domain_names,
)


@pytest.mark.parametrize(
    ("text", "local", "domain"),
    [
        ("alice@example.com", "alice", "example.com"),
        ("ALICE@EXAMPLE.COM", "ALICE", "example.com"),
        ("first.last+tag@Example.Com", "first.last+tag", "example.com"),
        ("o'brien@example.com", "o'brien", "example.com"),
        ("alice@bücher.example", "alice", "xn--bcher-kva.example"),
        ("alice@BÜCHER.example", "alice", "xn--bcher-kva.example"),
        ("alice@xn--bcher-kva.example", "alice", "xn--bcher-kva.example"),
        ("jörg@bücher.example", "jörg", "xn--bcher-kva.example"),
        # UTS 46 maps full-width letters; IDNA 2008 keeps ß (IDNA 2003 would turn it into ss).
        ("a@ｅｘａｍｐｌｅ.com", "a", "example.com"),
        ("a@straße.example", "a", "xn--strae-oqa.example"),
        ("a@example.com.", "a", "example.com"),
    ],
)
def test_valid_addresses_are_normalised(text: str, local: str, domain: str) -> None:
    address = parse_address(text)
    assert (address.local, address.domain) == (local, domain)
    assert str(address) == f"{local}@{domain}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("alice.example.com", "has no '@'"),
        ("@example.com", "part before '@' is empty"),
        ("alice@", "part after '@' is empty"),
        ("al ice@example.com", "contains a space, which an email address cannot hold"),
        ("alice\r\n@example.com", "contains a line break"),
        ("<alice>@example.com", "'<'"),
        ("alice(x)@example.com", "'('"),
        ("a[b]@example.com", "'['"),
        ("a\\b@example.com", "contains '\\'"),
        ("a,b@example.com", "','"),
        ("a;b@example.com", "';'"),
        ("a:b@example.com", "':'"),
        ('"quoted"@example.com', "'\"'"),
        (".alice@example.com", "starts or ends with a dot"),
        ("al..ice@example.com", "two dots in a row"),
        ("alice@exa mple.com", "the domain contains a space"),
        ("alice@example..com", "the domain has a dot at its start or two dots in a row"),
        ("alice@-example.com", "starts or ends with '-'"),
        ("alice@exa_mple.com", "contains '_', which a domain name cannot hold"),
        ("alice@example.com\x00", "contains an invisible character"),
        ("a" * 65 + "@example.com", "at most 64 characters"),
        ("a@" + "b" * 250 + ".com", "longer than 254 characters"),
        ("a\ufffd@example.com", "characters that could not be read"),
    ],
)
def test_malformed_addresses_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(AddressError) as raised:
        parse_address(text)
    assert reason in str(raised.value)
    assert "U+" not in str(raised.value) and "Codepoint" not in str(raised.value)


@pytest.mark.parametrize(("text", "reason"), [
    ("alice@exa[mple.com", "the domain contains '[', which a domain name cannot hold"),
    ("alice@x\u200bz.example", "the domain contains an invisible character"),
    ("alice@ex\u00a0ample.com", "the domain contains a space"),
    ("alice@ex\tample.com", "the domain contains a tab"),
    ("alice@" + "b" * 64 + ".example", "a part of the domain between dots is longer than 63"),
    ("alice@xn--zz.example", "the domain is not a valid domain name"),
    ("it's@exa'mple.com", 'the domain contains "\'"'),
])
def test_domain_mistakes_are_named_in_words_not_code_points(text: str, reason: str) -> None:
    """The idna package's own messages ("Codepoint U+005B not allowed at position 4")
    never reach people: each refusal is said in words."""
    with pytest.raises(AddressError) as raised:
        parse_address(text)
    assert str(raised.value) == reason or str(raised.value).startswith(reason)


def test_domain_labels_over_63_characters_are_refused() -> None:
    with pytest.raises(AddressError, match="longer than 63 characters"):
        normalize_domain("a" * 64 + ".example")


@pytest.mark.parametrize(
    ("host", "bare"),
    [
        ("autoconfig.example.com:8000", "autoconfig.example.com"),
        ("example.com", "example.com"),
        ("[::1]:8000", "[::1]"),
    ],
)
def test_host_header_port_is_stripped(host: str, bare: str) -> None:
    assert host_without_port(host) == bare


def test_overlong_domains_are_refused_before_any_idna_work() -> None:
    with pytest.raises(AddressError, match="longer than 253 characters"):
        normalize_domain("a." * 2000 + "example")


def test_plain_names_are_recognised_as_label_by_label() -> None:
    """One match over the whole name gives what checking each label gives (RFC 1035
    section 2.3.1 letters, digits, hyphens; no '--' at 3-4, which IDNA reserves)."""
    label = re.compile(r"(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

    def label_by_label(name: str) -> bool:
        return name.isascii() and all(label.fullmatch(part) for part in name.lower().split("."))

    names = ["".join(chars) for size in range(1, 6)
             for chars in itertools.product("ab-1.xnA", repeat=size)]
    names += ["a" * 63 + ".example", "a" * 64 + ".example", "xn--bcher-kva.example"]
    assert [n for n in names if _is_plain_ascii(n) != label_by_label(n)] == []


def test_many_plain_names_are_checked_at_once_as_one_by_one() -> None:
    """``plain_domain_names`` (a hoster's 100 000-name list) gives what normalising each
    name gives, and gives up (None) on any list holding a name that is not plain."""
    names = ["".join(chars) for size in range(1, 5)
             for chars in itertools.product("ab-1.xnA", repeat=size)]
    plain = [n for n in names if _is_plain_ascii(n)]
    assert plain_domain_names(plain) == [normalize_domain(n) for n in plain]
    for other in sorted(set(names) - set(plain))[:2000]:
        assert plain_domain_names([*plain[:50], other, *plain[50:100]]) is None, other
    for odd in ("example.org.", "bücher.example", "a" * 64 + ".example", "x" * 254, "a\nb", ""):
        assert plain_domain_names(["example.com", odd]) is None, odd
    assert plain_domain_names([]) is None
    assert plain_domain_names(["example.com", 7]) is None  # type: ignore[list-item]
