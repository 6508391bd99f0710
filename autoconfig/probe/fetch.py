"""A client's share of a probe run: its name on every request, its budget, its steps.

Transport failures (DNS, refused, TLS, timeouts) are recorded as failed steps with
their fix and give ``None``; HTTP answers of any status go back to the client
module, which judges them by that client's rules. Redirects are followed only when
the client module says its client follows them, and only as many as it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from autoconfig.address import EmailAddress
from autoconfig.probe.result import Verdict
from autoconfig.probe.transport import (
    CertificateStepError,
    Response,
    Session,
    StepError,
    TimeLimitError,
    TimeoutStepError,
)

MAX_REQUESTS = 16  # per client: the longest sequence (Outlook) needs about ten
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class Probe:
    """What every client module gets: the address, the session, its verdict to fill."""

    address: EmailAddress
    session: Session
    verdict: Verdict
    timeout: float = 5.0
    requests: int = 0
    chain: tuple[str, ...] = ()  # the URLs of the last get(), redirects included

    @property
    def domain(self) -> str:
        """The address's domain, in A-label form."""
        return self.address.domain

    def _one(self, method: str, url: str, headers: dict[str, str] | None,
             body: bytes | None) -> Response | None:
        if self.requests >= MAX_REQUESTS:
            self.verdict.step(f"{method} {url}", f"not sent: {MAX_REQUESTS} requests are the"
                              " probe's limit per client")
            return None
        self.requests += 1
        try:
            return self.session.request(self.verdict.client, method, url, timeout=self.timeout,
                                        headers=headers, body=body)
        except TimeLimitError:
            raise
        except StepError as error:
            self.verdict.step(f"{method} {url}", error.message, fix=error.fix,
                              serious=isinstance(error, CertificateStepError | TimeoutStepError))
            return None

    def get(self, url: str, *, follow: int = 0,
            headers: dict[str, str] | None = None) -> Response | None:
        """GET ``url``, following up to ``follow`` redirects as the client does."""
        response = self._one("GET", url, headers, None)
        self.chain = (url,)
        hops = 0
        while response is not None and response.status in REDIRECTS and hops < follow:
            location = response.header("Location")
            if not location:
                break
            target = urljoin(response.url, location)
            if urlsplit(target).scheme not in ("http", "https"):
                break
            self.verdict.step(f"GET {response.url}", f"{response.status} redirect to {target}",
                              ok=True)
            hops += 1
            self.chain = (*self.chain, target)
            response = self._one("GET", target, headers, None)
        return response

    def post(self, url: str, body: bytes, content_type: str) -> Response | None:
        """POST ``body`` to ``url``; never followed automatically."""
        return self._one("POST", url, {"Content-Type": content_type}, body)

    def dns(self, name: str, rdtype: str) -> list[str] | None:
        """Records of ``name`` as text (a TXT record's strings joined); a failure: a step, None."""
        try:
            return self.session.txt(name) if rdtype == "TXT" else self.session.lookup(name, rdtype)
        except TimeLimitError:
            raise
        except StepError as error:
            self.verdict.step(f"DNS {rdtype} {name}", error.message, fix=error.fix)
            return None


def described(response: Response) -> str:
    """``200 text/xml, 1234 bytes``: an answer in a step line."""
    kind = response.header("Content-Type") or "no Content-Type"
    return f"{response.status} {kind}, {len(response.body)} bytes"
