"""The SSRF guard: which addresses a webhook may reach, and a host judged by all its addresses."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from portal.webhooks.addresses import (
    AddressRefused,
    HostUnresolved,
    refusal,
    resolve_allowed,
)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT: neither private nor global
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("fec0::1", "site-local"),
        ("::127.0.0.1", "reserved"),  # IPv4-compatible, deprecated
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:a00:1::", "private"),  # 6to4 through 10.0.0.1
    ],
)
def test_it_refuses_addresses_that_are_not_public(address: str, kind: str) -> None:
    """Each range behind the portal is refused, and the reason names what kind it is."""
    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_it_allows_public_addresses(address: str) -> None:
    """A public address, or an IPv6 form of one, may be reached."""
    assert refusal(ipaddress.ip_address(address)) == ""


def fake_getaddrinfo(answers: dict[str, list[str]]) -> Any:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in answers[host]
        ]

    return getaddrinfo


def test_a_host_with_one_private_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """Every address counts: the resolver may put the private one first next time."""
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = False
    answers = {"hooks.example.com": ["93.184.216.34", "10.0.0.7"]}
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo(answers))

    with pytest.raises(AddressRefused) as refused:
        resolve_allowed("hooks.example.com", 443)

    assert "hooks.example.com" in str(refused.value)
    assert "private" in str(refused.value)
    assert "10.0.0.7" not in str(refused.value)  # internal addresses are not revealed


def test_a_public_host_resolves_to_its_first_address(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = False
    answers = {"hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"]}
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo(answers))

    address = resolve_allowed("hooks.example.com", 443)

    assert address == ipaddress.ip_address("93.184.216.34")


def test_private_addresses_are_allowed_when_the_setting_says_so(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """An on-premises receiver can be reached once an administrator allows it."""
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = True
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo({"ci.internal": ["10.0.0.7"]}))

    assert resolve_allowed("ci.internal", 80) == ipaddress.ip_address("10.0.0.7")


def test_a_host_without_an_address_is_unresolved_not_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS may answer later, so this is a different failure from a refusal (it is retried)."""
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo({}))

    with pytest.raises(HostUnresolved):
        resolve_allowed("gone.example.com", 443)
