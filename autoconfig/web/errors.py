"""Every error a view can raise, mapped to an HTTP answer in one place."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from autoconfig.errors import ClientError

log = logging.getLogger("autoconfig")


def text_response(status: int, message: str) -> Response:
    """A short, uncacheable plain-text answer for clients and people."""
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _client_error(error: ClientError) -> Response:
    return text_response(error.status, error.message)


def _http_error(error: HTTPException) -> Response:
    response = text_response(
        error.code or HTTPStatus.INTERNAL_SERVER_ERROR, error.description or error.name
    )
    if error.code == HTTPStatus.METHOD_NOT_ALLOWED and error.response is None:
        allowed = error.get_headers()
        for name, value in allowed:
            if name.lower() == "allow":
                response.headers["Allow"] = value
    return response


def _unexpected(error: Exception) -> Response:
    log.exception("unexpected error while answering a request")
    return text_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal server error")


def register_error_handlers(app: Flask) -> None:
    """Install the mapping; blueprints may override it for their own format (POX)."""
    app.register_error_handler(ClientError, _client_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
