"""The host names clients ask for a domain's settings under: each prefix defined once.

Thunderbird tries ``autoconfig.<domain>`` before ``<domain>/.well-known``
(``docs/thunderbird.md``); Outlook tries ``<domain>`` and ``autodiscover.<domain>``
(MS-OXDSCLI 3.1.5); PACC clients ask ``ua-auto-config.<domain>``
(draft-ietf-mailmaint-pacc, ``docs/pacc.md``). The answers, the DNS records and the
Kubernetes Gateway routes (``deploy/kubernetes/overlays/production/gateway.yaml``) use
these names.
"""

from __future__ import annotations

THUNDERBIRD = "autoconfig."
AUTODISCOVER = "autodiscover."
PACC = "ua-auto-config."

# Every prefix a request's Host header may carry in front of a served domain.
ALL = (THUNDERBIRD, AUTODISCOVER, PACC)
