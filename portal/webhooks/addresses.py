"""The SSRF guard: which addresses a webhook may reach, and the one lookup that finds them.

A webhook URL is typed by a person, but the POST leaves from a worker inside our network, where
the database, Redis, the cloud metadata service (169.254.169.254) and admin consoles answer.
So every address a host resolves to must be public, and the delivery connects to the address
that was checked: a second lookup could get a different answer (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Checked in this order, so the reason names the most specific kind (127.0.0.1 is "loopback",
# not "private"). is_site_local exists only on IPv6 addresses.
KINDS = (
    ("unspecified", "is_unspecified"),
    ("loopback", "is_loopback"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
    ("reserved", "is_reserved"),
    ("private", "is_private"),
    ("site-local", "is_site_local"),
)
# RFC 6052's well-known NAT64 prefix: the last 32 bits are the IPv4 address connected to.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(Exception):
    """The host is, or resolves to, an address webhooks may not reach; retrying cannot help."""


class HostUnresolved(Exception):
    """The host has no address right now; DNS may answer on a later attempt."""


def refusal(address: IPAddress) -> str:
    """Why webhooks may not reach ``address`` ("loopback", "private", ...), or "" if they may.

    An IPv6 address that stands for an IPv4 one is judged by it: ``::ffff:127.0.0.1`` reaches
    the loopback interface like ``127.0.0.1`` does, and a NAT64 gateway turns ``64:ff9b::a00:1``
    into a connection to ``10.0.0.1``.
    """
    if isinstance(address, ipaddress.IPv4Address):
        return _kind(address)
    landing = address.ipv4_mapped or _nat64(address)
    if landing is not None:
        return _kind(landing)  # the connection lands on this IPv4 address: it alone decides
    # 6to4 and Teredo carry the packets to an IPv4 address of their own, which must be public too.
    for end in _tunnel_ends(address):
        kind = _kind(end)
        if kind:
            return kind
    return _kind(address)


def _kind(address: IPAddress) -> str:
    for kind, attribute in KINDS:
        if getattr(address, attribute, False):
            return kind
    # Ranges that are none of the above and still not on the internet (100.64.0.0/10).
    return "" if address.is_global else "non-public"


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address not in NAT64:
        return None
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def _tunnel_ends(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    ends = [address.sixtofour]
    if address.teredo:
        ends.append(address.teredo[1])  # (server, client): the packets go to the client
    return [end for end in ends if end is not None]


def resolve_allowed(host: str, port: int) -> IPAddress:
    """The one address to connect to for ``host``, after checking every address it has.

    Every address is checked, not just the first: a host with one public and one private
    address would otherwise reach the private one whenever the resolver reorders them.
    """
    addresses = lookup(host, port)
    if not settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            kind = refusal(address)
            if kind:
                raise AddressRefused(_refused_message(host, kind))
    return addresses[0]


def lookup(host: str, port: int) -> list[IPAddress]:
    """Every address of ``host`` (an IP literal is its own answer), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise HostUnresolved(f"Could not resolve {host}.") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise HostUnresolved(f"{host} has no address.")
    return list(dict.fromkeys(addresses))


def _refused_message(host: str, kind: str) -> str:
    # The kind, not the address: the message must not map internal names to internal IPs.
    return (
        f"Refused to send to {host}: it is or resolves to a {kind} address, and webhooks may "
        "only reach public addresses. Use a public URL, or ask an administrator to allow "
        "private addresses (HANDOFF_WEBHOOK_ALLOW_PRIVATE)."
    )
