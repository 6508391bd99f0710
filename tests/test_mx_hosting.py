"""Serving hosted domains by MX, against a real nsd (docs/thunderbird.md#mx-lookup,
docs/dns.md#mx-hosting).

A counting proxy between the resolver and nsd proves how often DNS is asked:
once per TTL per worker, never for malformed names, never when no file has `mx`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from autoconfig.dns.mx import MxResolver, mx_matches, plausible_domain
from autoconfig.domains.registry import Registry, load_directory
from autoconfig.render.pacc import render_pacc
from autoconfig.settings import Settings, SettingsError
from tests.support.cli import run_cli
from tests.support.dns_server import (
    CountingProxy,
    DnsServer,
    load_zones,
    run_nsd,
    silent_nameserver,
)
from tests.support.http import request
from tests.support.pacc_reader import read_pacc
from tests.support.paths import TEST_DATA
from tests.support.server import run_server

HOSTING = TEST_DATA / "dns" / "hosting"
PATH = "/mail/config-v1.1.xml"


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    zones = load_zones(HOSTING / "zones")
    zones["provider.test"] = (TEST_DATA / "dns" / "zones" / "provider.test.zone").read_text()
    with run_nsd(zones, tmp_path_factory.mktemp("nsd")) as server:
        yield server


@pytest.fixture
def proxy(nsd: DnsServer) -> Iterator[CountingProxy]:
    """A fresh query counter in front of nsd."""
    with CountingProxy(nsd.port).running() as running:
        yield running


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_directory(HOSTING / "domains")


class FakeClock:
    """Monotonic time the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("host", "pattern", "matches"),
    [
        ("mx1.provider.test", "mx1.provider.test", True),
        ("mx1.provider.test", "*.provider.test", True),
        ("a.b.provider.test", "*.provider.test", True),
        ("provider.test", "*.provider.test", False),
        ("mx1.evilprovider.test", "*.provider.test", False),
        ("mx2.provider.test", "mx1.provider.test", False),
    ],
)
def test_mx_patterns(host: str, pattern: str, matches: bool) -> None:
    assert mx_matches(host, pattern) is matches


@pytest.mark.parametrize(
    ("name", "plausible"),
    [
        ("customer.test", True),
        ("xn--bcher-kva.example", True),
        ("localhost", False),
        ("127.0.0.1", False),
        ("a" * 64 + ".test", False),
        ("-bad.test", False),
        (("a" * 60 + ".") * 5 + "test", False),
    ],
)
def test_only_plausible_names_are_looked_up(name: str, plausible: bool) -> None:
    assert plausible_domain(name) is plausible


def test_a_domain_whose_best_mx_matches_gets_the_providers_file(
    proxy: CountingProxy, registry: Registry
) -> None:
    resolver = MxResolver(proxy.nameserver, timeout=2)
    config = resolver.config_for(registry, "customer.test")
    assert config is not None
    assert config.id == "provider.test"
    assert resolver.config_for(registry, "backup.test") is None  # provider is only the backup
    assert resolver.config_for(registry, "stranger.test") is None
    assert resolver.config_for(registry, "nullmx.test") is None
    assert resolver.config_for(registry, "nowhere.test") is None  # REFUSED: not served


def test_answers_are_cached_for_their_ttl(proxy: CountingProxy, registry: Registry) -> None:
    clock = FakeClock()
    resolver = MxResolver(proxy.nameserver, timeout=2, clock=clock)
    for _ in range(10):
        assert resolver.config_for(registry, "customer.test") is not None
    assert proxy.count("customer.test", "MX") == 1
    clock.now += 1.9
    resolver.config_for(registry, "customer.test")
    assert proxy.count("customer.test", "MX") == 1
    clock.now += 0.2  # the zone's MX TTL is 2 s
    resolver.config_for(registry, "customer.test")
    assert proxy.count("customer.test", "MX") == 2


def test_negative_answers_are_cached_for_the_soa_minimum(
    proxy: CountingProxy, registry: Registry
) -> None:
    clock = FakeClock()
    resolver = MxResolver(proxy.nameserver, timeout=2, clock=clock)
    for _ in range(5):
        assert resolver.config_for(registry, "bare.test") is None
    assert proxy.count("bare.test", "MX") == 1
    clock.now += 3.1  # bare.test's SOA minimum is 3 s
    resolver.config_for(registry, "bare.test")
    assert proxy.count("bare.test", "MX") == 2


def test_the_cache_is_bounded(proxy: CountingProxy, registry: Registry) -> None:
    resolver = MxResolver(proxy.nameserver, timeout=2, max_entries=2)
    for domain in ("customer.test", "stranger.test", "bare.test"):
        resolver.config_for(registry, domain)
    assert resolver.cache_size == 2
    resolver.config_for(registry, "customer.test")  # evicted first, so asked again
    assert proxy.count("customer.test", "MX") == 2
    assert proxy.count("bare.test", "MX") == 1


def test_malformed_names_and_files_without_mx_cause_no_query(
    proxy: CountingProxy, registry: Registry
) -> None:
    resolver = MxResolver(proxy.nameserver, timeout=2)
    for name in ("localhost", "127.0.0.1", "a" * 64 + ".test"):
        assert resolver.config_for(registry, name) is None
    without_mx = load_directory(TEST_DATA / "dns" / "domains")
    assert resolver.config_for(without_mx, "customer.test") is None
    assert sum(proxy.asked.values()) == 0


def test_a_dead_resolver_costs_one_timeout_then_backs_off(registry: Registry) -> None:
    with silent_nameserver() as nameserver:
        outcomes: list[str] = []  # what /metrics counts
        resolver = MxResolver(nameserver, timeout=0.5, on_lookup=outcomes.append)
        started = time.monotonic()
        assert resolver.config_for(registry, "customer.test") is None
        first = time.monotonic() - started
        started = time.monotonic()
        assert resolver.config_for(registry, "stranger.test") is None
        second = time.monotonic() - started
    assert 0.4 < first < 2
    assert second < 0.1  # no new query while backing off
    assert outcomes == ["failure", "failure"]


def _provider_id(body: bytes) -> str:
    provider = etree.fromstring(body).find("emailProvider")
    assert provider is not None
    return str(provider.get("id"))


def test_the_server_serves_hosted_domains_and_asks_once_per_ttl(
    proxy: CountingProxy, tmp_path: Path
) -> None:
    env = {"AUTOCONFIG_DNS_NAMESERVER": proxy.nameserver}
    with run_server(HOSTING / "domains", tmp_path / "server.log", env=env, workers=1) as server:
        hosted = f"{PATH}?emailaddress=alice@customer.test"
        replies = [request(server.base, hosted) for _ in range(20)]
        assert {reply.status for reply in replies} == {200}
        assert _provider_id(replies[0].body) == "provider.test"
        assert b"<hostname>mail.provider.test</hostname>" in replies[0].body
        by_host = request(server.base, PATH, headers={"Host": "autoconfig.customer.test"})
        assert by_host.status == 200
        assert proxy.count("customer.test", "MX") == 1  # 21 requests, one question

        time.sleep(2.2)  # the MX TTL of customer.test is 2 s
        assert request(server.base, hosted).status == 200
        assert proxy.count("customer.test", "MX") == 2

        stranger = request(server.base, f"{PATH}?emailaddress=bob@stranger.test")
        assert stranger.status == 404
        assert stranger.text == "no mail settings are served for stranger.test\n"
        assert request(server.base, f"{PATH}?emailaddress=bob@localhost").status == 404
        assert proxy.count("localhost", "MX") == 0
        assert request(server.base, f"{PATH}?emailaddress=carol@other.test").status == 200
        assert proxy.count("other.test", "MX") == 0  # listed domains never ask

        # /metrics: three questions went to DNS (misses), the other 20 came from the cache.
        metrics = request(server.base, "/metrics").text.splitlines()
        assert 'autoconfig_mx_lookups_total{result="miss"} 3.0' in metrics
        assert 'autoconfig_mx_lookups_total{result="hit"} 20.0' in metrics
        assert 'autoconfig_mx_lookups_total{result="failure"} 0.0' in metrics


def test_without_mx_in_any_file_the_server_never_asks(
    proxy: CountingProxy, tmp_path: Path
) -> None:
    env = {"AUTOCONFIG_DNS_NAMESERVER": proxy.nameserver}
    domains = TEST_DATA / "dns" / "domains"
    with run_server(domains, tmp_path / "server.log", env=env, workers=1) as server:
        reply = request(server.base, f"{PATH}?emailaddress=alice@customer.test")
        assert reply.status == 404
    assert sum(proxy.asked.values()) == 0


def test_check_warns_about_patterns_that_match_a_whole_tld(tmp_path: Path) -> None:
    text = (HOSTING / "domains" / "provider.yaml").read_text()
    (tmp_path / "wide.yaml").write_text(text.replace('["*.provider.test"]', '["*.test"]'))
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 0
    assert (
        "wide.yaml:5: warning: mx[0]: '*.test' matches every mail host under .test: any domain"
        " whose mail goes there would get this file's settings; name your own MX hosts"
    ) in result.stdout
    (tmp_path / "wide.yaml").write_text(text.replace('["*.provider.test"]', '["mx 1.test"]'))
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 1
    assert (
        "wide.yaml:5: mx[0]: expected a domain name, but the domain contains a space;"
        " got 'mx 1.test'"
    ) in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUTOCONFIG_DNS_NAMESERVER": "dns.example"},
         "AUTOCONFIG_DNS_NAMESERVER: expected an IP address with an optional :PORT;"
         " got 'dns.example'"),
        ({"AUTOCONFIG_DNS_NAMESERVER": "[::1]:70000"},
         "AUTOCONFIG_DNS_NAMESERVER: expected a port from 1 to 65535; got '70000'"),
        ({"AUTOCONFIG_SERVER_HOST": "a..b"}, "AUTOCONFIG_SERVER_HOST: expected a host name;"
         " the domain has a dot at its start or two dots in a row"),
        ({"AUTOCONFIG_DNS_TIMEOUT": "0"},
         "AUTOCONFIG_DNS_TIMEOUT: expected a number more than zero; got '0'"),
    ],
)
def test_bad_dns_settings_are_refused_with_the_variable_named(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value) == message


def test_dns_settings_are_read() -> None:
    settings = Settings.from_env({
        "AUTOCONFIG_DNS_NAMESERVER": "[::1]:5353", "AUTOCONFIG_SERVER_HOST": "Config.Provider.Test",
        "AUTOCONFIG_DNS_TIMEOUT": "0.5", "AUTOCONFIG_MX_CACHE_SIZE": "50",
    })
    assert (settings.dns_nameserver, settings.server_host) == ("[::1]:5353", "config.provider.test")
    assert (settings.dns_timeout, settings.mx_cache_size) == (0.5, 50)


def test_a_hosted_domain_gets_its_pacc_document_by_mx(nsd: DnsServer, tmp_path: Path) -> None:
    env = {"AUTOCONFIG_DNS_NAMESERVER": nsd.nameserver}
    with run_server(HOSTING / "domains", tmp_path / "server.log", env=env, workers=1) as server:
        path = "/.well-known/user-agent-configuration.json"
        replies = [request(server.base, path, headers={"Host": "ua-auto-config.customer.test"})
                   for _ in range(2)]
    assert [reply.status for reply in replies] == [200, 200]
    assert replies[0].body == replies[1].body  # rendered for the domain, the same each time
    provider = load_directory(HOSTING / "domains").lookup("provider.test")
    assert provider is not None
    assert replies[0].body == render_pacc(provider, "customer.test")
    assert read_pacc(replies[0].body).servers["imap"].host == "mail.provider.test"
