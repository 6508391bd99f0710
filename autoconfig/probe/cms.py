"""Reading a signed Apple profile: CMS SignedData (RFC 5652 section 5), DER only.

``cryptography`` signs CMS but does not verify it, so this walks the DER itself
(a few fixed fields), checks the signature with the signer's public key and leaves
the chain to ``cryptography.x509.verification``. Anything unexpected is a
``CmsError`` with a plain reason; nothing here trusts lengths it has not checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

_SIGNED_DATA = "1.2.840.113549.1.7.2"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
    "1.3.14.3.2.26": hashes.SHA1,
}


class CmsError(Exception):
    """The signed profile cannot be read or its signature does not hold."""


@dataclass(frozen=True, slots=True)
class Tlv:
    """One DER element: tag byte, the whole encoding and the content."""

    tag: int
    encoded: bytes
    content: bytes


def _read(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    if offset + 2 > len(data):
        raise CmsError("truncated DER")
    tag, first = data[offset], data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise CmsError("a DER length this reader does not accept")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise CmsError("truncated DER")
    return Tlv(tag, data[offset:end], data[start:end]), end


def _children(content: bytes) -> list[Tlv]:
    children, offset = [], 0
    while offset < len(content):
        child, offset = _read(content, offset)
        children.append(child)
    return children


def _oid(tlv: Tlv) -> str:
    if tlv.tag != 0x06 or not tlv.content:
        raise CmsError("expected an object identifier")
    first, parts, value = tlv.content[0], [], 0
    parts += [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    for byte in tlv.content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(str(value))
            value = 0
    return ".".join(parts)


@dataclass(frozen=True)
class SignedProfile:
    """The embedded content, the signer's certificate and the others sent along."""

    content: bytes
    signer: x509.Certificate
    others: tuple[x509.Certificate, ...]


def _digest_attribute(signed_attrs: Tlv) -> bytes:
    for attribute in _children(signed_attrs.content):
        oid, values = _children(attribute.content)[:2]
        if _oid(oid) == _MESSAGE_DIGEST:
            return _children(values.content)[0].content
    raise CmsError("the signed attributes hold no message digest")


def _verify(certificate: x509.Certificate, signature: bytes, data: bytes,
            algorithm: hashes.HashAlgorithm) -> None:
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            raise CmsError(f"a {type(key).__name__} signer key is not supported")
    except InvalidSignature:
        raise CmsError("the signature does not match the profile") from None


def _check_signature(signer: x509.Certificate, parts: list[Tlv], content: bytes,
                     algorithm: type[hashes.HashAlgorithm]) -> None:
    """RFC 5652 5.4: the digest of the content is signed through the signed attributes."""
    digest = hashes.Hash(algorithm())
    digest.update(content)
    signed_attrs = parts[3] if parts[3].tag == 0xA0 else None
    signature = next((p.content for p in parts[4:] if p.tag == 0x04), None)
    if signature is None:
        raise CmsError("the signer info holds no signature")
    if signed_attrs is None:
        _verify(signer, signature, content, algorithm())
        return
    if _digest_attribute(signed_attrs) != digest.finalize():
        raise CmsError("the profile was changed after signing (digest mismatch)")
    _verify(signer, signature, b"\x31" + signed_attrs.encoded[1:], algorithm())


def read_signed(data: bytes) -> SignedProfile:
    """Parse ContentInfo/SignedData, check the signature; CmsError says what fails."""
    try:
        outer, _ = _read(data)
        content_type, wrapped = _children(outer.content)[:2]
        if _oid(content_type) != _SIGNED_DATA:
            raise CmsError("not CMS SignedData")
        fields = _children(_children(wrapped.content)[0].content)
        encap = _children(fields[2].content)
        if len(encap) < 2:
            raise CmsError("the profile is not embedded (a detached signature)")
        content = _children(encap[1].content)[0].content
        certificates = [x509.load_der_x509_certificate(c.encoded)
                        for f in fields[3:] if f.tag == 0xA0 for c in _children(f.content)]
        signer_info = _children(fields[-1].content)[0]
        parts = _children(signer_info.content)
        serial = int.from_bytes(_children(parts[1].content)[1].content, "big", signed=True)
        algorithm = _HASHES.get(_oid(_children(parts[2].content)[0]))
        if algorithm is None:
            raise CmsError("the digest algorithm is not one of SHA-1/256/384/512")
    except (IndexError, ValueError) as error:
        raise CmsError(f"malformed CMS ({error or 'a field is missing'})") from None
    signer = next((c for c in certificates if c.serial_number == serial), None)
    if signer is None:
        raise CmsError("the signer's certificate is not in the profile")
    try:
        _check_signature(signer, parts, content, algorithm)
    except (IndexError, ValueError) as error:
        raise CmsError(f"malformed CMS signer info ({error or 'a field is missing'})") from None
    return SignedProfile(content, signer, tuple(c for c in certificates if c is not signer))
