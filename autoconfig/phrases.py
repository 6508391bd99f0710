"""Messages people may read in their own language, kept apart from their English text.

An error raised deep in the address parser has no request and no language. It carries
a ``Phrase``: the English message id (the key of the Babel catalogs) and its
parameters. ``str()`` gives the English text (logs, the CLI, plain-text answers);
the settings page passes its translator to ``translated``. ``Phrase(...)`` is an
extraction keyword (see babel.cfg and the ``translations`` Makefile target), so
every message written this way lands in the catalogs.
"""

from __future__ import annotations

from collections.abc import Callable

Translator = Callable[[str], str]


def english(msgid: str) -> str:
    """The identity translator: the message ids are the English texts."""
    return msgid


class Phrase:
    """An English message id with ``%(name)s`` parameters, translated when shown.

    A parameter may itself be a Phrase (a reason inside a sentence); it is
    translated with the same translator.
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, /, **params: object) -> None:
        self.msgid = msgid
        self.params = params

    def translated(self, translate: Translator) -> str:
        """The text in the language of ``translate`` (a gettext function)."""
        text = translate(self.msgid)
        if not self.params:
            return text
        values = {
            key: value.translated(translate) if isinstance(value, Phrase) else value
            for key, value in self.params.items()
        }
        return text % values

    def __str__(self) -> str:
        return self.translated(english)

    def __repr__(self) -> str:
        return f"Phrase({self.msgid!r}, {self.params!r})"


def as_phrase(message: str | Phrase) -> Phrase:
    """A plain string becomes a Phrase without parameters (shown as it is)."""
    return message if isinstance(message, Phrase) else Phrase(message)
