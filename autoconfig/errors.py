"""The exceptions a request can end in; ``web.errors`` maps them to HTTP answers.

One hierarchy, one mapping: answers raise, the front answers them (``answers/front.py``).
"""

from __future__ import annotations

from http import HTTPStatus

from autoconfig.phrases import Phrase, as_phrase


class ClientError(Exception):
    """Something the client sent that we cannot answer; never a 500."""

    status: int = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str | Phrase) -> None:
        self.phrase = as_phrase(message)  # what the settings page translates
        self.message = str(self.phrase)  # English, for plain-text answers and logs
        super().__init__(self.message)


class BadRequestError(ClientError):
    """Malformed input: an address, a parameter, a header."""

    status = HTTPStatus.BAD_REQUEST


class UnknownDomainError(ClientError):
    """A well-formed domain that this server does not serve."""

    status = HTTPStatus.NOT_FOUND
