"""The WSGI application: the settings, the loaded domains and the services, wired once.

Importing this package reads no file and logs nothing; gunicorn runs
``autoconfig:create_app()``, which loads the domain files once.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from autoconfig import i18n
from autoconfig.answers.documents import Documents
from autoconfig.answers.metrics import Metrics
from autoconfig.directory import directory_from_settings
from autoconfig.dns.mx import MxResolver
from autoconfig.domains.store import ConfigStore
from autoconfig.server.proxy import TrustedProxyFix
from autoconfig.settings import Settings
from autoconfig.signing import signer_from_settings
from autoconfig.web import apple, autodiscover, brand, health, metrics, pacc, thunderbird, wellknown
from autoconfig.web.errors import register_error_handlers
from autoconfig.web.fast_path import install_fast_path
from autoconfig.web.lookup import DIRECTORY_KEY, DOCUMENTS_KEY, MX_RESOLVER_KEY, STORE_KEY
from autoconfig.web.policy import register_policy
from autoconfig.web.resources import templates_dir

__all__ = ["create_app"]


def _configure_logging() -> None:
    logger = logging.getLogger("autoconfig")
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s [%(levelname)s] %(name)s: %(message)s")
        )
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI app: check the installation, load the domain files, register views.

    Raises ``ResourcesMissingError`` for an incomplete installation and
    ``NoValidDomainsError`` when nothing can be served: both before any request.
    """
    _configure_logging()
    settings = settings or Settings.from_env()
    app = Flask("autoconfig", template_folder=str(templates_dir()))
    app.config["AUTOCONFIG_SETTINGS"] = settings
    counters = app.extensions[metrics.METRICS_KEY] = Metrics()
    app.extensions[STORE_KEY] = ConfigStore(
        settings.domains_dir, settings.reload_interval, settings.cache_dir, observer=counters
    )
    # Inert (no DNS at all) while no loaded file has `mx` patterns; reloads may add some.
    app.extensions[MX_RESOLVER_KEY] = MxResolver(
        settings.dns_nameserver, settings.dns_timeout, settings.mx_cache_size,
        on_lookup=counters.mx_lookup,
    )
    app.extensions[DOCUMENTS_KEY] = Documents()
    app.extensions[apple.SIGNER_KEY] = signer_from_settings(settings)  # checked once
    app.extensions[DIRECTORY_KEY] = directory_from_settings(settings.ldap)  # LDAP, optional
    register_error_handlers(app)
    _count_requests(app, counters)
    register_policy(app)
    i18n.init_app(app)  # the settings page's language (translations/ in this package)
    for blueprint in (
        thunderbird.blueprint, health.blueprint, apple.blueprint, autodiscover.blueprint,
        pacc.blueprint, wellknown.blueprint, metrics.blueprint, brand.blueprint,
    ):
        app.register_blueprint(blueprint)
    install_fast_path(app)  # the most frequent answers without Flask's per-request cost
    if settings.trusted_proxies:  # client address and scheme as the proxy saw them
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, settings.trusted_proxies
        )
    return app


def _count_requests(app: Flask, counters: Metrics) -> None:
    """Time every request and count its answer (error answers too) by family."""

    @app.before_request
    def _start() -> None:
        g.autoconfig_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("autoconfig_started")
        if started is not None:
            counters.request_done(
                request.endpoint, response.status_code, time.perf_counter() - started
            )
        return response
