"""Errors the front itself finds, and the plain-text error format.

Answer functions raise ``ClientError`` subclasses (``autoconfig.errors``); the front
maps every error, its own too, to an answer in the format of the route's client family
(``Route.errors``, given the request too): plain text here, a POX ``Error`` or v2 JSON
for Autodiscover (``answers/autodiscover.py``). ``None`` stands for an unexpected error (a bug): the
front has logged it, the format answers 500.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from autoconfig.answers.request import Answer, Ask
from autoconfig.errors import ClientError

# A route's error format: a client error (or None for a bug) and the request -> the answer.
ErrorFormat = Callable[[ClientError | None, Ask], Answer]


class NoRouteError(ClientError):
    """No route has this path."""

    status = HTTPStatus.NOT_FOUND


class MethodNotAllowedError(ClientError):
    """The route exists, not for this method; ``allowed`` goes into ``Allow``."""

    status = HTTPStatus.METHOD_NOT_ALLOWED

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__("method not allowed")
        self.allowed = allowed


class BodyTooLargeError(ClientError):
    """The request body is over the route's cap."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE

    def __init__(self) -> None:
        super().__init__("the request body is too large")


def text_answer(status: int, message: str) -> Answer:
    """A short plain-text answer for clients and people (uncacheable by the policy)."""
    return Answer(
        status, [("Content-Type", "text/plain; charset=utf-8")], (message + "\n").encode()
    )


def plain_text_errors(error: ClientError | None, ask: Ask) -> Answer:
    """The error format of every route that has none of its own."""
    if error is None:
        return text_answer(HTTPStatus.INTERNAL_SERVER_ERROR, "internal server error")
    return text_answer(error.status, error.message)
