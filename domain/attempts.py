"""Anonymous attempts: sign-in, token refresh and self sign-up are budgeted per client
address and per username named, so one client cannot try passwords or probe who is
registered faster than the budgets allow (RATE_LIMITED, with the seconds to wait).
"""

from __future__ import annotations

import hashlib
import ipaddress

from domain.errors import RateLimited
from domain.ports import AttemptBudget

ADDRESS = "address"
USERNAME = "username"
IPV6_CLIENT_PREFIX = 64  # one IPv6 client holds a whole /64 (RFC 6177), not one address


def address_key(address: str | None) -> str:
    """The client an address belongs to: itself for IPv4, its /64 network for IPv6."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(parsed)


def username_key(username: str) -> str:
    """Usernames are counted by digest: the budget's store keeps no names."""
    return hashlib.sha256(username.encode()).hexdigest()[:32]


def admit(budget: AttemptBudget | None, address: str | None, username: str | None = None) -> None:
    """Count an anonymous attempt against the caller's address and the username it names;
    refuse it (RateLimited) once either budget is spent. No budget: nothing is limited."""
    if budget is None:
        return
    keys = [(ADDRESS, address_key(address))]
    if username is not None:
        keys.append((USERNAME, username_key(username)))
    for scope, key in keys:
        wait = budget.spend(scope, key)
        if wait is not None:
            raise RateLimited(wait)
