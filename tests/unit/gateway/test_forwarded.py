"""Who the client is: the direct peer, unless it is a trusted proxy; then the right-most untrusted hop."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_network
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import ValidationError

from apps.gateway.edge import client_key
from apps.gateway.edge.forwarded import IPNetwork, client_address
from apps.gateway.settings import GatewaySettings
from servicekit import ok
from tests.unit.gateway.helpers import TOKENS, LimiterOf, edge_app, services

PROXIES: list[IPNetwork] = [ip_network("10.0.0.0/8"), ip_network("192.0.2.7/32"), ip_network("2001:db8::/32")]


def test_by_default_no_proxy_is_trusted() -> None:
    assert GatewaySettings().trusted_proxies == []
    assert client_address("127.0.0.1", ["198.51.100.1"], []) == "127.0.0.1"


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # An untrusted peer is the client, whatever it forwards.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),
        # A trusted proxy: the hop it appended, not what the client put in front of it.
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),
        # A chain of trusted proxies is walked from the right to the first untrusted hop.
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1, 192.0.2.7, 10.9.9.9"], "198.51.100.1"),
        # Every hop trusted: the left-most is where the chain began.
        ("10.1.2.3", ["10.5.5.5, 192.0.2.7"], "10.5.5.5"),
        # No header, or an empty one: the proxy itself.
        ("10.1.2.3", [], "10.1.2.3"),
        ("10.1.2.3", [" , "], "10.1.2.3"),
        # A hop that is not an address stops the walk at the proxy that wrote it.
        ("10.1.2.3", ["198.51.100.1, not-an-ip"], "10.1.2.3"),
        ("10.1.2.3", ["not-an-ip, 10.7.7.7"], "10.7.7.7"),
        # IPv6, bracketed or not.
        ("2001:db8::1", ["[2001:db8::2], 2a00:1450::5"], "2a00:1450::5"),
        ("2001:db8::1", ["2a00:1450::5"], "2a00:1450::5"),
    ],
)
def test_the_right_most_untrusted_address_is_the_client(peer: str, forwarded: list[str], client: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_a_peer_without_an_address_stays_unknown() -> None:
    assert client_address(None, ["198.51.100.1"], PROXIES) is None
    assert client_address("testclient", ["198.51.100.1"], PROXIES) == "testclient"


def scope(peer: str, *forwarded: str) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "path": "/api/v1/auth/login", "headers": headers, "client": (peer, 40000)}


def test_the_limiters_key_is_the_real_client() -> None:
    assert client_key(scope("127.0.0.1", "198.51.100.1"), None) == "addr:127.0.0.1"
    assert client_key(scope("10.1.2.3", "6.6.6.6, 198.51.100.1"), None, PROXIES) == "addr:198.51.100.1"


def test_trusted_proxies_come_from_the_environment_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", '["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]')
    assert GatewaySettings().trusted_proxies == PROXIES


@pytest.mark.parametrize("value", ['["0.0.0.0/0"]', '["::/0"]', '["10.0.0.1/8"]', '["a-host-name"]'])
def test_trusting_everyone_or_a_malformed_network_stops_the_gateway(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError):
        GatewaySettings()


def test_uvicorn_is_told_not_to_believe_forwarded_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    from servicekit.serve import server_config

    monkeypatch.setenv("APP_PORT", "8123")
    config = server_config("apps.gateway.main:create_app")
    assert config.proxy_headers is False
    assert (config.host, config.port) == ("127.0.0.1", 8123)


router = APIRouter()


@router.post("/api/v1/auth/login")
async def login() -> JSONResponse:
    return ok({"accessToken": "t"})


def edge(limiter_of: LimiterOf, proxies: list[IPNetwork], client: tuple[str, int]) -> TestClient:
    limiter = limiter_of("tiers:\n  - name: default\n    paths: [/]\n    limits: ['3/hour']\n")
    served = services(tokens=TOKENS, limiter=limiter)  # no request here signs in
    return TestClient(edge_app([router], served, trusted_proxies=proxies), client=client)


@pytest.fixture
def spoofing_client(limiter_of: LimiterOf) -> Iterator[TestClient]:
    with edge(limiter_of, [], ("127.0.0.1", 50000)) as client:
        yield client


def test_a_new_x_forwarded_for_each_time_does_not_escape_the_limit(spoofing_client: TestClient) -> None:
    statuses = [
        spoofing_client.post("/api/v1/auth/login", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(limiter_of: LimiterOf) -> None:
    with edge(limiter_of, PROXIES, ("10.1.2.3", 50000)) as proxy:
        for client in ("198.51.100.1", "198.51.100.2"):
            statuses = [
                proxy.post("/api/v1/auth/login", headers={"X-Forwarded-For": f"6.6.6.{n}, {client}"}).status_code
                for n in range(4)
            ]
            assert statuses == [200, 200, 200, 429], client
