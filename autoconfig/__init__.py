"""autoconfig: mail-client autoconfiguration from one YAML file per domain.

Importing this package reads no file and logs nothing; gunicorn runs
``autoconfig:create_app()``, which loads the domain files once.
"""

from __future__ import annotations

import logging

from flask import Flask

from autoconfig.directory import directory_from_settings
from autoconfig.dns.mx import MxResolver
from autoconfig.proxy import TrustedProxyFix
from autoconfig.resources import templates_dir
from autoconfig.settings import Settings
from autoconfig.signing import signer_from_settings
from autoconfig.state import ConfigStore
from autoconfig.web import apple, autodiscover, health, thunderbird
from autoconfig.web.errors import register_error_handlers
from autoconfig.web.lookup import DIRECTORY_KEY, MX_RESOLVER_KEY, STORE_KEY

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
    app = Flask(__name__, template_folder=str(templates_dir()))
    app.config["AUTOCONFIG_SETTINGS"] = settings
    if settings.trusted_proxies:  # client address and scheme as the proxy saw them
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, settings.trusted_proxies
        )
    app.extensions[STORE_KEY] = ConfigStore(settings.domains_dir, settings.reload_interval)
    # Inert (no DNS at all) while no loaded file has `mx` patterns; reloads may add some.
    app.extensions[MX_RESOLVER_KEY] = MxResolver(
        settings.dns_nameserver, settings.dns_timeout, settings.mx_cache_size
    )
    app.extensions[apple.SIGNER_KEY] = signer_from_settings(settings)  # checked once
    app.extensions[DIRECTORY_KEY] = directory_from_settings(settings.ldap)  # LDAP, optional
    register_error_handlers(app)
    for blueprint in (
        thunderbird.blueprint, health.blueprint, apple.blueprint, autodiscover.blueprint
    ):
        app.register_blueprint(blueprint)
    return app
