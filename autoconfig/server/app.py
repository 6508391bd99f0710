"""The WSGI application: the settings, the loaded domains and the services, wired once.

``create_app`` checks the installation, loads the domain files, builds the services the
answers use and puts the front (``autoconfig/answers/front.py``) in front of everything,
behind the trusted-proxy fix where one is configured. gunicorn runs
``autoconfig:create_app()``; ``autoconfig serve`` builds it before forking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoconfig.answers.documents import Documents
from autoconfig.answers.front import Front
from autoconfig.answers.metrics import Metrics
from autoconfig.answers.services import Services
from autoconfig.directory import directory_from_settings
from autoconfig.dns.mx import MxResolver
from autoconfig.domains.store import ConfigStore
from autoconfig.i18n import Translators
from autoconfig.server.access_log import formatter_for
from autoconfig.server.proxy import TrustedProxyFix
from autoconfig.settings import Settings
from autoconfig.signing import signer_from_settings
from autoconfig.web.page import create_page_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Application", "create_app"]


def _configure_logging(log_format: str) -> None:
    """Our lines, and any library's warnings, through the same masking and escaping as
    gunicorn's (access_log.py): the handler sits on the root logger, so no record falls
    through to Python's unformatted last-resort handler."""
    logger = logging.getLogger("autoconfig")
    root = logging.getLogger()
    if not logger.handlers and not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            formatter_for(log_format, "%(asctime)s [%(levelname)s] %(name)s: %(message)s")
        )
        root.addHandler(handler)
    logger.setLevel(logging.INFO)


@dataclass(frozen=True, slots=True)
class Application:
    """What gunicorn serves: the front, behind the trusted-proxy fix where configured.

    ``store`` is for gunicorn's master (it watches the files and replaces the workers).
    """

    front: Front
    store: ConfigStore
    wsgi: WSGIApplication

    @property
    def services(self) -> Services:
        """The services every answer uses."""
        return self.front.services

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        return self.wsgi(environ, start_response)


def create_app(settings: Settings | None = None) -> Application:
    """Build the WSGI application.

    Raises ``ResourcesMissingError`` for an incomplete installation and
    ``NoValidDomainsError`` when nothing can be served: both before any request.
    """
    settings = settings or Settings.from_env()
    _configure_logging(settings.log_format)
    metrics = Metrics()
    store = ConfigStore(
        settings.domains_dir, settings.reload_interval, settings.cache_dir, observer=metrics
    )
    services = Services(
        settings=settings,
        store=store,
        metrics=metrics,
        translators=Translators(),
        documents=Documents(),
        # Inert (no DNS at all) while no loaded file has `mx` patterns; reloads may add some.
        mx=MxResolver(
            settings.dns_nameserver, settings.dns_timeout, settings.mx_cache_size,
            on_lookup=metrics.mx_lookup,
        ),
        directory=directory_from_settings(settings.ldap, observer=metrics),  # LDAP, optional
        signer=signer_from_settings(settings),  # certificate and key checked once
    )
    front = Front(services, create_page_app(services))  # the page checks its templates
    wsgi: WSGIApplication = front
    if settings.trusted_proxies:  # client address and scheme as the proxy saw them
        wsgi = TrustedProxyFix(front, settings.trusted_proxies)
    # Built: now follow the domain files, here and in every process forked from here
    # on; `autoconfig serve` narrows that to gunicorn's master (server/application.py).
    store.follow()
    return Application(front, store, wsgi)
