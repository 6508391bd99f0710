"""Reading domain files: YAML with line numbers, and admin-facing error messages.

Each problem becomes one ``Finding`` that names the file, the line, the key
path, what was expected and what was found, e.g.
``domains/example.com.yaml:12: incoming[1].security: expected one of tls, starttls, none;
got 'ssl '``. Every file is read and every problem reported, never only the first.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from autoconfig.domains import fast_yaml
from autoconfig.domains.fileformat import (
    CONTEXT_FOLDER,
    CONTEXT_IMAGES,
    WORD_ALIASES,
    DomainFile,
    NameAndDomains,
    to_record,
)
from autoconfig.domains.records import DomainConfig, Server
from autoconfig.domains.yaml_mistakes import (
    explain_syntax_error,
    hash_values,
    may_have_hash_values,
)

KeyPath = tuple[str | int, ...]
FileStamp = tuple[int, int]  # (modification time in ns, size): a changed file has a new one
DOMAIN_FILE_SUFFIXES = (".yaml", ".yml")
# A domain file is a few hundred bytes; a provider listing all its customers' domains in
# one file needs ~25 bytes per domain (100 000 domains: 2.5 MB, parsed and validated in
# under a second, measured). 16 MiB (~650 000 domains) is far beyond that and still
# loads in seconds; anything larger is not a domain file someone wrote.
MAX_FILE_BYTES = 16 << 20

try:  # the C loader is several times faster, which matters with thousands of files
    _SafeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _SafeLoader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class Finding:
    """One error or warning about a domain file, located as precisely as we can."""

    file: str
    line: int | None
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{self.path}: {self.message}" if self.path else self.message
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {prefix}{what}"


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """A domain file that validated; the line of every key is found again when asked.

    ``lines`` is None for files loaded the lean way (the server never needs lines for a
    good file; 100 000 files' line tables would cost hundreds of MB): ``line_of`` then
    reads ``path`` again, which happens only for the few files a message is about.
    """

    path: str
    config: DomainConfig
    lines: Mapping[KeyPath, int] | None = field(default=None, repr=False, compare=False)
    stamp: FileStamp = (0, 0)
    # The logo file the record holds the bytes of, with its stamp taken before reading:
    # a compiled cache's record is reused only while that file is unchanged too.
    logo_stamp: tuple[str, FileStamp | None] | None = None

    def line_of(self, key_path: KeyPath) -> int | None:
        """The line of ``key_path``, or of its nearest ancestor that has one."""
        lines = self.lines if self.lines is not None else _lines_of(Path(self.path))
        for end in range(len(key_path), -1, -1):
            if key_path[:end] in lines:
                return lines[key_path[:end]]
        return None


def _lines_of(path: Path) -> Mapping[KeyPath, int]:
    """The key lines of a file read again (empty if it changed into something unreadable)."""
    try:
        return parse_yaml(path.read_bytes().decode("utf-8"), str(path))[1]
    except (OSError, UnicodeDecodeError, ValueError):
        return {}


class SharedParts:
    """What the files of one load have in common, made once: a hoster's 100 000 files name
    the same few servers, and most differ only in ``name`` and ``domains``.

    A file whose other keys equal those of a file loaded before (same values, same
    order) gets that file's record with its own name and domains, validated alone by
    the same rules: the rest was valid there, and no rule of the format relates name or
    domains to other keys. That halves the work per file. A logo is read per file, so
    files with one are always validated whole.
    """

    __slots__ = ("_records", "servers")

    def __init__(self) -> None:
        self.servers: dict[Server, Server] = {}
        self._records: dict[str, DomainConfig] = {}

    def like_one_before(self, data: dict[str, Any], source: str) -> DomainConfig | None:
        """``data``'s record from a file loaded before, or None (validate it whole)."""
        earlier = self._records.get(_rest_of(data)) if self._records else None
        if earlier is None:
            return None
        try:
            own = NameAndDomains.model_validate(data)
        except ValidationError:
            return None  # validated whole, for the messages
        return replace(earlier, source=source, name=own.name, domains=tuple(own.domains))

    def remember(self, data: dict[str, Any], record: DomainConfig) -> None:
        """Keep ``record`` for later files whose other keys equal ``data``'s."""
        if "logo" not in data and len(self._records) < SHARED_RECORDS:
            self._records.setdefault(_rest_of(data), record)


SHARED_RECORDS = 1000  # different templates kept per load


def _rest_of(data: dict[str, Any]) -> str:
    """Every key but name and domains, with its value: equal only for equal data (the
    repr of strings, numbers, booleans and None tells them all apart)."""
    return repr([item for item in data.items() if item[0] not in _OWN_KEYS])


_OWN_KEYS = ("name", "domains")


@dataclass(frozen=True, slots=True)
class FileResult:
    """The outcome of reading one file: a config, or the errors that stop it."""

    path: str
    loaded: LoadedFile | None
    errors: tuple[Finding, ...]


def format_key_path(key_path: Iterable[str | int]) -> str:
    """``('incoming', 1, 'security')`` -> ``incoming[1].security``."""
    text = ""
    for part in key_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _describe_found(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _allowed_keys(key_path: KeyPath) -> list[str]:
    """The keys the format allows at ``key_path`` (for 'did you mean' hints)."""
    model: type[BaseModel] = DomainFile
    for part in key_path:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        nested = _model_in(annotation)
        if nested is None:
            return []
        model = nested
    return [name for name, field in model.model_fields.items() if not field.exclude]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


_QUOTED = re.compile(r"'([^']*)'")


# What each pydantic error type means in a domain file, in the admin's words.
_EXPECTED: dict[str, str] = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "string_type": "expected text",
    "model_type": "expected a mapping of keys to values",
    "model_attributes_type": "expected a mapping of keys to values",
    "dict_type": "expected a mapping of keys to values",
    "list_type": "expected a list",
    "too_short": "expected at least one entry",
}
_LENGTHS = {"string_too_short": ("least", "min_length"), "string_too_long": ("most", "max_length")}
_BOUNDS = ("less_than_equal", "greater_than_equal", "less_than", "greater_than")


def _expected(error: ErrorDetails) -> str:
    kind, message = error["type"], error["msg"]
    if kind in ("literal_error", "enum"):
        options = _QUOTED.findall(error.get("ctx", {}).get("expected", ""))
        return f"expected one of {', '.join(options)}"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind in _LENGTHS:
        word, key = _LENGTHS[kind]
        bound = error.get("ctx", {}).get(key)
        return f"expected at {word} {bound} character{'' if bound == 1 else 's'}"
    prefix = "expected a number " if kind in _BOUNDS else "expected "
    return _EXPECTED.get(kind, prefix + message.removeprefix("Input should be ").rstrip("."))


def _pydantic_findings(
    source: str, error: ValidationError, lines: Mapping[KeyPath, int]
) -> list[Finding]:
    findings = []
    for detail in error.errors(include_url=False):
        # Drop pydantic's type tags (e.g. 'function-after[...]') so paths read like the file.
        key_path: KeyPath = tuple(
            part for part in detail["loc"] if isinstance(part, int) or "[" not in part
        )
        line = LoadedFile(source, None, lines).line_of(key_path)  # type: ignore[arg-type]
        kind = detail["type"]
        if kind == "missing":
            message = "required key is missing"
        elif kind == "secret_refused":  # never echo the secret
            message = detail["msg"]
        elif kind == "extra_forbidden":
            allowed = _allowed_keys(key_path[:-1])
            close = difflib.get_close_matches(str(key_path[-1]), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
            message = f"unknown key; {hint}"
        else:
            message = f"{_expected(detail)}; got {_describe_found(detail['input'])}"
            message += _did_you_mean(detail)
        findings.append(Finding(source, line, format_key_path(key_path), message))
    return findings


def _did_you_mean(error: ErrorDetails) -> str:
    """A hint for a word of the format typed in another case, with blanks, or misspelt
    (``SSL``, ``STARTTLS``, ``Password``, ``pasword``); aliases such as ssl count."""
    typed = error["input"]
    if error["type"] not in ("literal_error", "enum") or not isinstance(typed, str):
        return ""
    options = _QUOTED.findall(error.get("ctx", {}).get("expected", ""))
    words = [*options, *(alias for alias, word in WORD_ALIASES.items() if word in options)]
    word = typed.strip().lower()
    close = [word] if word in words else difflib.get_close_matches(word, words, n=1, cutoff=0.8)
    return f"; did you mean {close[0]!r}?" if close else ""


# A domain file holds a few dozen values (or one per domain it lists). YAML aliases can
# make a short file expand exponentially ("billion laughs"); nesting can exhaust the
# stack. Both are refused: without aliases a file cannot hold more values than it has
# characters, so more than MAX_VALUES plus one per character means aliases at work.
MAX_VALUES = 5000
MAX_DEPTH = 16


class _DuplicateKeyError(Exception):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(key)
        self.key, self.line = key, line


class _TooComplexError(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _to_python(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    key_path: KeyPath,
    lines: dict[KeyPath, int],
    budget: int = MAX_VALUES,
) -> Any:
    """Build plain Python data from a YAML node, recording the line of every key."""
    if len(lines) > budget or len(key_path) > MAX_DEPTH:
        raise _TooComplexError(node.start_mark.line + 1)
    lines.setdefault(key_path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                line = key_node.start_mark.line + 1
                raise _DuplicateKeyError(format_key_path((*key_path, key)), line)
            lines[(*key_path, key)] = key_node.start_mark.line + 1
            result[key] = _to_python(loader, value_node, (*key_path, key), lines, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = enumerate(node.value)
        return [_to_python(loader, item, (*key_path, i), lines, budget) for i, item in items]
    return loader.construct_object(node, deep=True)


class _Budget:
    """How many more values a lean parse may build (see MAX_VALUES)."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def _to_plain(loader: yaml.SafeLoader, node: yaml.Node, depth: int, budget: _Budget) -> Any:
    """``_to_python`` without key paths and lines: the fast path for files that are fine.

    Any problem (a duplicate key, too many values) raises, and the caller parses again
    the careful way for a located message.
    """
    budget.left -= 1
    if budget.left < 0 or depth > MAX_DEPTH:
        raise _TooComplexError(node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise _DuplicateKeyError(key, key_node.start_mark.line + 1)
            budget.left -= 1
            result[key] = _to_plain(loader, value_node, depth + 1, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_plain(loader, item, depth + 1, budget) for item in node.value]
    return loader.construct_object(node, deep=True)


def _parse_lean(text: str) -> Any:
    """Plain data from YAML text, or ``_RETRY`` when only the careful parse can explain."""
    data = fast_yaml.parse(text, MAX_DEPTH)
    if data is not fast_yaml.NOT_CERTAIN:
        return data
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _to_plain(loader, node, 0, _Budget(_budget(text)))
    except (yaml.YAMLError, _DuplicateKeyError, _TooComplexError, RecursionError):
        return _RETRY
    finally:
        loader.dispose()


_RETRY = object()  # the lean parse failed: parse again with lines for the message


def _budget(text: str) -> int:
    return MAX_VALUES + len(text)


def parse_yaml(text: str, source: str) -> tuple[Any, dict[KeyPath, int]]:
    """Parse YAML text; raise ``ValueError`` with a located message on bad syntax."""
    lines: dict[KeyPath, int] = {}
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        return _to_python(loader, node, (), lines, _budget(text)), lines
    except yaml.MarkedYAMLError as error:
        line, message = explain_syntax_error(error, text)
        raise ValueError(f"{source}{f':{line}' if line else ''}: {message}") from None
    except yaml.YAMLError as error:  # pragma: no cover - libyaml marks every error it raises
        raise ValueError(f"{source}: not valid YAML: {error}") from None
    except _DuplicateKeyError as error:
        raise ValueError(f"{source}:{error.line}: {error.key}: key appears twice") from None
    except _TooComplexError as error:
        raise ValueError(
            f"{source}:{error.line}: expected a domain file of at most {_budget(text)} values"
            f" (one per character) nested at most {MAX_DEPTH} deep; this one expands further"
            " (YAML aliases?)"
        ) from None
    except RecursionError:
        raise ValueError(f"{source}: YAML nested too deeply to be a domain file") from None
    finally:
        loader.dispose()


def load_file(
    path: Path,
    display_name: str | None = None,
    stamp: FileStamp = (0, 0),
    shared: SharedParts | None = None,
) -> FileResult:
    """Read and validate one domain file (``stamp``: its stat before reading).

    ``shared``: what the files loaded together have in common (see ``SharedParts``).
    """
    source = display_name or str(path)
    lines: dict[KeyPath, int] | None = None
    try:
        text = _read_text(path, source)
        data = _parse_lean(text)
        if data is _RETRY:
            data, lines = parse_yaml(text, source)
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text ({error.reason} at byte {error.start})"
        return FileResult(source, None, (Finding(source, None, "", message),))
    except OSError as error:
        message = f"cannot read: {error.strerror}"
        return FileResult(source, None, (Finding(source, None, "", message),))
    except ValueError as error:
        return FileResult(source, None, (_finding_from_text(str(error), source),))
    if not isinstance(data, dict):
        found = "an empty file" if data is None else _describe_found(data)
        message = f"expected a mapping of keys (name, domains, incoming, outgoing); got {found}"
        return FileResult(source, None, (Finding(source, 1, "", message),))
    return _validate(path, source, text, data, lines=lines, stamp=stamp, shared=shared)


def _validate(
    path: Path,
    source: str,
    text: str,
    data: dict[str, Any],
    *,
    lines: dict[KeyPath, int] | None,
    stamp: FileStamp,
    shared: SharedParts | None,
) -> FileResult:
    """``load_file`` once the text is a mapping: its record, or every error in line order
    (values lost to an unquoted # first: pydantic would only say "got nothing")."""
    lost: list[Finding] = []
    if may_have_hash_values(text):
        if lines is None:
            lines = parse_yaml(text, source)[1]
        lost = [Finding(source, line, format_key_path(at), message)
                for at, line, message in hash_values(text, data, lines)]
    context: dict[str, Any] = {CONTEXT_FOLDER: path.parent, CONTEXT_IMAGES: {}}
    logo = data.get("logo")
    logo_stamp = None
    if isinstance(logo, str):  # stamped before the validator reads it
        logo_path = path.parent / logo
        logo_stamp = (str(logo_path), file_stamp(logo_path))
    record = shared.like_one_before(data, source) if shared is not None and not lost else None
    if record is None:
        try:
            document = DomainFile.model_validate(data, context=context)
        except ValidationError as error:
            if lines is None:  # the lean parse kept none: find them for the messages
                lines = parse_yaml(text, source)[1]
            found = _pydantic_findings(source, error, lines)
            return FileResult(source, None, _merged(lost, found))
        if lost:
            return FileResult(source, None, tuple(lost))
        servers = shared.servers if shared is not None else None
        record = to_record(document, source, context[CONTEXT_IMAGES], servers)
        if shared is not None:
            shared.remember(data, record)
    loaded = LoadedFile(source, record, None, stamp, logo_stamp if record.logo else None)
    return FileResult(source, loaded, ())


def _merged(first: list[Finding], then: list[Finding]) -> tuple[Finding, ...]:
    """Both lists in line order; of two findings about one key, only ``first``'s."""
    said = {finding.path for finding in first}
    kept = [*first, *(finding for finding in then if finding.path not in said)]
    return tuple(sorted(kept, key=lambda finding: finding.line or 0))


def _read_text(path: Path, source: str) -> str:
    """The file's text, its size checked on the open file (one path lookup, not two)."""
    with path.open("rb", buffering=0) as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(
                f"{source}: {size} bytes, larger than the {MAX_FILE_BYTES} bytes a domain file"
                f" may have (about {MAX_FILE_BYTES // 25} domains); split it into several files"
            )
        return file.readall().decode("utf-8")


def _finding_from_text(text: str, source: str) -> Finding:
    """Wrap a preformatted ``file:line: message`` string as a Finding."""
    rest = text.removeprefix(f"{source}")
    line = None
    match = re.match(r":(\d+): (.*)", rest, re.DOTALL)
    if match:
        line, rest = int(match.group(1)), match.group(2)
    else:
        rest = rest.removeprefix(": ")
    return Finding(source, line, "", rest)


def scan_domain_files(directory: Path) -> dict[str, FileStamp]:
    """The domain files' names in ``directory`` with their stamps, in name order (= load order).

    One ``stat`` per file and plain strings (Path objects cost more than the stat calls):
    at 100 000 files this runs at every start and after every reported change.
    """
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(DOMAIN_FILE_SUFFIXES) and entry.is_file():
                status = entry.stat()
                found.append((entry.name, (status.st_mtime_ns, status.st_size)))
    found.sort()
    return dict(found)


def file_stamp(path: Path) -> FileStamp | None:
    """Modification time and size of ``path``, as in a scan; None when it cannot be
    stat-ed."""
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size)


def domain_files(directory: Path) -> list[Path]:
    """The domain files in ``directory``, sorted so that load order is stable."""
    return [directory / name for name in scan_domain_files(directory)]


def display_prefix(directory: Path) -> str:
    """What goes before a file's name in messages: ``domains/``, or nothing for ``.``."""
    return str(Path(display_path(directory)) / "_")[:-1]


def display_path(path: Path) -> str:
    """A path as admins want to read it: relative to the working directory if below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
