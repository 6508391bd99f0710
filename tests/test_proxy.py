"""Client addresses behind exactly one trusted proxy (autoconfig/server/proxy.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from autoconfig.address import parse_networks
from autoconfig.server.proxy import TrustedProxyFix
from autoconfig.settings import Settings, SettingsError

PROXIES = parse_networks("127.0.0.1, ::1")


def seen_by_app(peer: str, forwarded_for: str, proto: str = "https") -> tuple[str, str]:
    """REMOTE_ADDR and scheme the wrapped application sees."""
    seen: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen["addr"], seen["scheme"] = environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]
        start_response("200 OK", [])
        return [b""]

    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http", "HTTP_HOST": "x",
               "HTTP_X_FORWARDED_FOR": forwarded_for, "HTTP_X_FORWARDED_PROTO": proto}
    TrustedProxyFix(app, PROXIES)(environ, lambda *_: None)  # type: ignore[arg-type]
    return seen["addr"], seen["scheme"]


def test_the_proxy_names_the_client() -> None:
    assert seen_by_app("127.0.0.1", "192.0.2.9") == ("192.0.2.9", "https")
    assert seen_by_app("::1", "2001:db8::9") == ("2001:db8::9", "https")


def test_only_the_entry_the_proxy_added_counts() -> None:
    # The client forged the first entry; nginx appended the address it saw.
    assert seen_by_app("127.0.0.1", "198.51.100.7, 192.0.2.9")[0] == "192.0.2.9"


def test_a_direct_client_cannot_pose_as_another() -> None:
    assert seen_by_app("192.0.2.50", "198.51.100.7") == ("192.0.2.50", "http")


def test_a_unix_socket_peer_is_the_proxy() -> None:
    assert seen_by_app("", "192.0.2.9")[0] == "192.0.2.9"


def test_setting_parses_addresses_and_networks() -> None:
    settings = Settings.from_env({"AUTOCONFIG_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8"})
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert Settings.from_env({}).trusted_proxies == ()


def test_setting_names_a_bad_entry() -> None:
    with pytest.raises(SettingsError, match=r"AUTOCONFIG_TRUSTED_PROXIES: .*got 'nginx'"):
        Settings.from_env({"AUTOCONFIG_TRUSTED_PROXIES": "127.0.0.1, nginx"})
