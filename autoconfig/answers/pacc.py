"""PACC: ``/.well-known/user-agent-configuration.json`` on ``ua-auto-config.<domain>``.

The domain comes from the Host header (as for Thunderbird's ``autoconfig.<domain>``);
the body is the prerendered document, byte for byte what ``dns records`` hashed. It is
public, so any origin may read it (``Access-Control-Allow-Origin: *``), and cacheable
like the Thunderbird document (docs/pacc.md).
"""

from __future__ import annotations

from autoconfig import hosts
from autoconfig.answers.lookup import domain_from_host
from autoconfig.answers.policy import shared_cache
from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.services import Services
from autoconfig.render.pacc import CONTENT_TYPE


def user_agent_configuration(ask: Ask, services: Services) -> Answer:
    """The PACC document of the domain the Host header names."""
    snapshot = services.store.snapshot
    domain, config = domain_from_host(services, snapshot, ask.host, (hosts.PACC,))
    document = services.documents.of(snapshot).pacc(config, domain)
    headers = [
        ("Content-Type", CONTENT_TYPE),
        shared_cache(services.settings.cache_max_age),
        ("Access-Control-Allow-Origin", "*"),
    ]
    return Answer(200, headers, document.body, etag=document.etag)
