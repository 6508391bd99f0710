"""Files loaded together share what they have in common, and read exactly as alone.

A hoster's files differ in name and domains only; the loader validates those two alone
when the rest equals a file loaded before (``load.SharedParts``). Whatever a file holds,
the record and the messages must be those of a file read on its own.
"""

from __future__ import annotations

from pathlib import Path

from autoconfig.domains.load import FileResult, SharedParts, load_file

TEMPLATE = """name: {name}
domains: {domains}
incoming:
  - {{protocol: imap, host: mail.%EMAILDOMAIN%, security: tls}}
outgoing:
  - {{protocol: smtp, host: mail.%EMAILDOMAIN%, security: starttls, port: 587}}
"""
# (name, domains) as written in YAML: good ones, and each way these two keys can be wrong.
VARIANTS = [
    ("Customer 1", "[customer1.example, alias1.example]"),
    ("Customer 2", "[BÜCHER-2.example]"),
    ("'   '", "[customer3.example]"),
    ("''", "[customer4.example]"),
    ("Customer 5", "[]"),
    ("Customer 6", "[customer6.example, customer6.example]"),
    ("Customer 7", "[not a domain]"),
    ("Customer 8", "customer8.example"),
    ("[a, list]", "[customer9.example]"),
    ("Customer 10", "[customer10.example, 'customer10..example']"),
    ('"Line\\nbreak"', "[customer11.example]"),
    ("Customer 12", "[customer12.example]\nwebmail: https://webmail.example"),
]


def read_each(directory: Path, shared: SharedParts | None) -> list[FileResult]:
    return [
        load_file(path, path.name, (0, 0), shared)
        for path in sorted(directory.glob("*.yaml"))
    ]


def test_files_from_one_template_read_as_each_read_alone(tmp_path: Path) -> None:
    for number, (name, domains) in enumerate(VARIANTS):
        text = TEMPLATE.format(name=name, domains=domains)
        (tmp_path / f"{number:02}.yaml").write_text(text, encoding="utf-8")
    shared = SharedParts()
    together = read_each(tmp_path, shared)
    alone = read_each(tmp_path, None)
    assert together == alone
    assert [str(e) for r in together for e in r.errors] == [
        "03.yaml:1: name: expected at least 1 character; got ''",
        "04.yaml:2: domains: expected at least one entry; got a list",
        "05.yaml:2: domains: expected each domain once; customer6.example appears twice;"
        " got a list",
        "06.yaml:2: domains[0]: expected a domain name, but the domain contains a space;"
        " got 'not a domain'",
        "07.yaml:2: domains: expected a list; got 'customer8.example'",
        "08.yaml:1: name: expected text; got a list",
        "09.yaml:2: domains[1]: expected a domain name, but the domain has a dot at its"
        " start or two dots in a row; got 'customer10..example'",
        "10.yaml:1: name: expected text without control characters or line breaks;"
        " got 'Line\\nbreak'",
    ]
    good = [r.loaded.config for r in together if r.loaded is not None]
    assert [(c.source, c.name, c.domains, c.webmail) for c in good] == [
        ("00.yaml", "Customer 1", ("customer1.example", "alias1.example"), None),
        ("01.yaml", "Customer 2", ("xn--bcher-2-n2a.example",), None),
        ("02.yaml", "   ", ("customer3.example",), None),
        ("11.yaml", "Customer 12", ("customer12.example",), "https://webmail.example"),
    ]
    # The files that differ only in name and domains share one set of servers.
    assert good[0].incoming[0] is good[1].incoming[0] is good[2].incoming[0]
