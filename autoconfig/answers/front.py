"""The one WSGI front: route, answer, then the policy headers, metrics and errors, once.

Every request passes here. The route table (``answers/routes.py``) names the answer
function; the front builds its ``Ask``, reads the body within the route's cap, calls it,
and turns its ``Answer`` into the response, adding ``Content-Length``, the ``ETag`` and
304 for shared documents, and the shared policy headers (``answers/policy.py``). A
``ClientError`` becomes an answer in the route's own error format; any other exception
is a bug: it is logged once, with its traceback, and answered 500 in that same format.
The page's routes go to the page application, whose responses get the same policy
headers and are counted the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from werkzeug.http import parse_etags

from autoconfig.answers.errors import (
    BodyTooLargeError,
    MethodNotAllowedError,
    NoRouteError,
    plain_text_errors,
)
from autoconfig.answers.metrics import OTHER_FAMILY
from autoconfig.answers.policy import with_policy
from autoconfig.answers.request import Answer, Ask, Query
from autoconfig.answers.routes import ROUTES, Route
from autoconfig.answers.services import Services
from autoconfig.errors import ClientError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("autoconfig")

_READ_CHUNK = 16 * 1024
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
_BODILESS = frozenset({"HEAD"})
_OPTIONS = "OPTIONS"


class Front:
    """The WSGI application every request enters."""

    def __init__(
        self, services: Services, page: WSGIApplication, routes: Iterable[Route] = ROUTES
    ) -> None:
        self.services = services
        self._page = page
        self._exact: dict[str, Route] = {}  # static paths as declared
        self._folded: dict[str, Route] = {}  # static paths matched in any letter case
        self._patterns: list[tuple[Any, Route]] = []  # paths with parameters
        for route in routes:
            pattern = route.pattern
            if pattern is not None:
                self._patterns.append((pattern, route))
            elif route.any_case:
                self._folded[route.path.lower()] = route
            else:
                self._exact[route.path] = route

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route of ``path`` and its parameters, or None."""
        route = self._exact.get(path) or self._folded.get(path.lower())
        if route is not None:
            return route, {}
        for pattern, candidate in self._patterns:
            found = pattern.fullmatch(path)
            if found is not None:
                return candidate, found.groupdict()
        return None

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer one request."""
        started = time.perf_counter()
        method = environ["REQUEST_METHOD"]
        path = _text(environ.get("PATH_INFO", "")) or "/"
        matched = self.match(path)
        if matched is None:
            route: Route | None = None
            answer = plain_text_errors(NoRouteError("not found"), _bare_ask(environ, method, path))
        else:
            route, params = matched
            if route.is_page and method in route.methods:
                return self._from_page(environ, start_response, started)
            answer = self._answer(route, method, path, params, environ)
        family = route.family if route is not None else OTHER_FAMILY
        return self._respond(answer, environ, start_response, family=family, started=started)

    def _answer(
        self, route: Route, method: str, path: str, params: dict[str, str],
        environ: WSGIEnvironment,
    ) -> Answer:
        """The route's answer, or its error format's answer for what went wrong."""
        ask: Ask | None = None
        try:
            function = route.answers.get(method) or (
                route.answers.get("GET") if method in _BODILESS else None
            )
            if function is None:
                allowed = (*route.methods, _OPTIONS)
                if method == _OPTIONS:
                    return Answer(HTTPStatus.OK, [("Allow", ", ".join(allowed))])
                raise MethodNotAllowedError(allowed)
            ask = Ask(
                method=method,
                path=path,
                query=Query(_text(environ.get("QUERY_STRING", ""))),
                host=_host(environ),
                content_type=environ.get("CONTENT_TYPE", ""),
                accept=environ.get("HTTP_ACCEPT", ""),
                accept_language=environ.get("HTTP_ACCEPT_LANGUAGE", ""),
                body=_read_body(environ, route.max_body) if route.max_body else b"",
                params=params,
            )
            return function(ask, self.services)
        except ClientError as error:
            answer = route.errors(error, ask or _bare_ask(environ, method, path, params))
            if isinstance(error, MethodNotAllowedError):
                answer.headers.append(("Allow", ", ".join(error.allowed)))
            return answer
        except Exception:
            log.exception("unexpected error while answering %s %s", method, route.path)
            return route.errors(None, ask or _bare_ask(environ, method, path, params))

    def _respond(
        self, answer: Answer, environ: WSGIEnvironment, start_response: StartResponse,
        *, family: str, started: float,
    ) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        status, headers, body = answer.status, answer.headers, answer.body
        if answer.etag is not None:
            headers.append(("ETag", f'"{answer.etag}"'))  # hex digits: nothing to escape
            if_none_match = environ.get("HTTP_IF_NONE_MATCH")
            if (if_none_match and status == HTTPStatus.OK and method in ("GET", "HEAD")
                    and parse_etags(if_none_match).contains_weak(answer.etag)):
                status, body = HTTPStatus.NOT_MODIFIED, b""
                headers = [item for item in headers if item[0] != "Content-Type"]
        if status != HTTPStatus.NOT_MODIFIED:
            headers.append(("Content-Length", str(len(body))))
        start_response(_STATUS_LINES[status], with_policy(headers))
        self.services.metrics.request_done(family, status, time.perf_counter() - started)
        return [] if method in _BODILESS or not body else [body]

    def _from_page(
        self, environ: WSGIEnvironment, start_response: StartResponse, started: float
    ) -> Iterable[bytes]:
        """The page application's response, with the policy headers, counted."""
        metrics = self.services.metrics

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            metrics.request_done("page", int(status[:3]), time.perf_counter() - started)
            return start_response(status, with_policy(list(headers)), exc_info)

        try:
            return self._page(environ, start)
        except Exception:
            log.exception("unexpected error while answering the page")
            bug = plain_text_errors(None, _bare_ask(environ, environ["REQUEST_METHOD"], "/"))
            return self._respond(bug, environ, start_response, family="page", started=started)


def _host(environ: WSGIEnvironment) -> str:
    host: str = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return host


def _bare_ask(
    environ: WSGIEnvironment, method: str, path: str, params: dict[str, str] | None = None
) -> Ask:
    """The request for an error format when its query or body could not be read: the
    headers only (what a format may choose by)."""
    return Ask(method, path, host=_host(environ), accept=environ.get("HTTP_ACCEPT", ""),
               accept_language=environ.get("HTTP_ACCEPT_LANGUAGE", ""), params=params or {})


def _text(raw: str) -> str:
    """A WSGI string (bytes as latin-1) as the UTF-8 text the client meant."""
    return raw if raw.isascii() else raw.encode("latin-1").decode("utf-8", "replace")


def _read_body(environ: WSGIEnvironment, cap: int) -> bytes:
    """The request body, read no further than ``cap``: a declared length over it is
    refused before reading, a body without one (chunked) as soon as it passes it."""
    stream = environ["wsgi.input"]
    length_text = environ.get("CONTENT_LENGTH") or ""
    if length_text:
        try:
            length = int(length_text)
        except ValueError:
            raise ClientError("the Content-Length header is not a number") from None
        if length > cap:
            raise BodyTooLargeError
        data: bytes = stream.read(length) if length > 0 else b""
        return data
    if not environ.get("wsgi.input_terminated"):
        return b""  # no length and a server that cannot end the stream: nothing to read
    chunks: list[bytes] = []
    total = 0
    read: Callable[[int], bytes] = stream.read
    while chunk := read(_READ_CHUNK):
        total += len(chunk)
        if total > cap:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)
