"""Thunderbird autoconfig (clientConfig v1.1; docs/thunderbird.md).

Thunderbird and the clients that read its format ask ``autoconfig.<domain>`` first, then
``<domain>/.well-known/autoconfig/`` (docs/thunderbird.md#discovery), with
``?emailaddress=`` or, in hardened set-ups (K-9, some profiles), without it: the domain
then comes from the Host header.
"""

from __future__ import annotations

from autoconfig import hosts
from autoconfig.answers.lookup import address_from, domain_from_host, find_config, for_user
from autoconfig.answers.policy import PERSONAL_CACHE_CONTROL, shared_cache
from autoconfig.answers.request import Answer, Ask
from autoconfig.answers.services import Services
from autoconfig.render.thunderbird import render_thunderbird

HOST_PREFIXES = (hosts.THUNDERBIRD,)
CONTENT_TYPE = "text/xml; charset=utf-8"


def client_config(ask: Ask, services: Services) -> Answer:
    """The domain's clientConfig: shared (with an ETag) unless the directory made it
    one user's."""
    snapshot = services.store.snapshot
    raw_address = ask.query.get("emailaddress", "")
    if raw_address:
        address = address_from(raw_address)
        config = find_config(services, snapshot, address.domain)
        user = for_user(services, config, address)
        if user.personal:  # this user's login name: for this client only, never shared
            headers = [("Content-Type", CONTENT_TYPE), ("Cache-Control", PERSONAL_CACHE_CONTROL)]
            return Answer(200, headers, render_thunderbird(user.config))
    else:
        config = domain_from_host(services, snapshot, ask.host, HOST_PREFIXES)[1]
    document = services.documents.of(snapshot).thunderbird(config)
    headers = [("Content-Type", CONTENT_TYPE), shared_cache(services.settings.cache_max_age)]
    return Answer(200, headers, document.body, etag=document.etag)
