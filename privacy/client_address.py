"""The client's address, also behind a reverse proxy (lockouts and rate limits).

Behind N trusted reverse proxies (setting PROXY_COUNT), the client's address is
the N-th entry from the right of X-Forwarded-For: each proxy appends the address
it saw, so entries further left were written by the client and can be forged.
This is the rule of Werkzeug's ProxyFix (x_for=N). django-ipware 8 was tried
first: its proxy_count counts proxies inside the header and returned no address
for the common one-proxy set-up (nginx writing just the client's address).
With PROXY_COUNT 0 (no proxy) the header is ignored: anyone can send it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    # A Unix socket gives no address: such requests share one bucket (set PROXY_COUNT).
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104
    count = settings.PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote  # not sent through all the proxies: trust only the socket
    return _valid(forwarded[-count]) or remote
