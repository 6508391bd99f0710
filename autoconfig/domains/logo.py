"""A provider's logo for the settings page: read once at load, checked, served from here.

The page's Content-Security-Policy allows images from this server only, so the logo
is a file next to the domain file, not a URL. Its type comes from its first bytes,
never from its name; an SVG must be an SVG document (it is served sandboxed, and an
``<img>`` never runs its scripts).
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from autoconfig.domains.records import Image

MAX_LOGO_BYTES = 100 * 1024  # a logo is a few kilobytes; the page stays light
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"

# Signatures: PNG (ISO/IEC 15948 5.2), JPEG (SOI marker), GIF87a/89a, WebP (RIFF....WEBP).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)
ALLOWED = "PNG, JPEG, GIF, WebP or SVG"


def _is_svg(data: bytes) -> bool:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return False
    return root.tag == SVG_ROOT


def image_type(data: bytes) -> str | None:
    """The MIME type of a logo from its content, None when it is no image we serve."""
    for signature, offset, content_type in _SIGNATURES:
        if data[offset:offset + len(signature)] == signature:
            if content_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return content_type
    return "image/svg+xml" if _is_svg(data) else None


def read_logo(path: Path) -> Image:
    """The logo at ``path``, or ValueError saying what is wrong with the file.

    The messages fit the domain-file finding they become (``...; got 'logo.png'``).
    """
    try:
        size = path.stat().st_size
        if size > MAX_LOGO_BYTES:
            raise ValueError(
                f"expected an image of at most {MAX_LOGO_BYTES // 1024} KiB"
                f" (this one has {size // 1024} KiB)"
            )
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(
            f"expected a readable file, relative to the domain file ({error.strerror})"
        ) from None
    content_type = image_type(data)
    if content_type is None:
        raise ValueError(f"expected a {ALLOWED} image")
    return Image(content_type, data)
