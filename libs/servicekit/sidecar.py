"""The app's view of its own Dapr sidecar: invocation, pub/sub, state, secrets and health.

Plain HTTP over one pooled async client: the Python SDK's maintainers recommend HTTP for
service invocation, and one client for every building block keeps the app free of gRPC
channels and of the SDK's blocking health poll at construction time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from servicekit.context import REQUEST_ID_HEADER, current_request_id
from servicekit.errors import BadRequest, Conflict, DependencyUnavailable, error_for_status
from servicekit.events import EventEnvelope
from servicekit.settings import ServiceSettings

_EVERY_PUBLISH = frozenset({"ERR_PUBSUB_NOT_FOUND", "ERR_PUBSUB_NOT_CONFIGURED", "ERR_PUBSUB_EMPTY"})
"""Refusals that concern the sidecar's set-up, not one message: every publish would get them, so they are retried."""


class PublishRefused(BadRequest):
    """Raised when the sidecar refuses one message for good (a 4xx about it); retrying cannot help.

    A 5xx, a timeout, 401, 408, 429 or a refusal that every message would get (no such pub/sub) is
    a DependencyUnavailable instead: the publisher keeps its order and tries again.
    """

    default_code = "PUBLISH_REFUSED"


def publish_refused(status: int, details: Any) -> bool:
    """Whether a publish answer refuses this one message for good."""
    code = details.get("errorCode") if isinstance(details, dict) else None
    return 400 <= status < 500 and status not in (401, 408, 429) and code not in _EVERY_PUBLISH


@dataclass(frozen=True)
class StateItem:
    value: Any
    etag: str | None


@dataclass(frozen=True)
class StateOp:
    """One operation of a state transaction: an upsert (guarded by an ETag, or insert-only) or a delete."""

    key: str
    value: Any = None
    etag: str | None = None
    insert_only: bool = False
    delete: bool = False
    ttl_seconds: int | None = None
    """The store forgets the key this long after the write (state.sqlite, redis, postgres support it)."""

    def as_dapr(self) -> dict[str, Any]:
        request: dict[str, Any] = {"key": self.key}
        if not self.delete:
            request["value"] = self.value
        if self.ttl_seconds is not None and not self.delete:
            request["metadata"] = {"ttlInSeconds": str(self.ttl_seconds)}
        if self.etag is not None:
            request["etag"] = self.etag
        if self.etag is not None or self.insert_only:
            request["options"] = {"concurrency": "first-write"}
        return {"operation": "delete" if self.delete else "upsert", "request": request}


class SidecarClient(Protocol):
    """What apps need from a sidecar; DaprSidecar is the real one, FakeSidecar the unit-test one."""

    async def invoke(
        self,
        app_id: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any: ...

    async def publish(self, topic: str, event: EventEnvelope) -> None: ...

    async def publish_cloud_event(self, topic: str, cloud_event: dict[str, Any]) -> None:
        """Publish a whole CloudEvent as it is (a dead letter that keeps its original id and type)."""
        ...

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None: ...

    async def save_state(self, key: str, value: Any, *, etag: str | None = None, store: str | None = None) -> None: ...

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None: ...

    async def get_secret(self, key: str, *, store: str | None = None) -> str: ...

    async def outbound_ready(self) -> bool: ...


class DaprSidecar:
    """SidecarClient over the sidecar's HTTP API on 127.0.0.1."""

    def __init__(
        self,
        *,
        http_port: int,
        api_token: str | None = None,
        pubsub: str = "pubsub",
        statestore: str = "statestore",
        secretstore: str = "secretstore",
        timeout_seconds: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"dapr-api-token": api_token} if api_token else {}
        self._http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{http_port}",
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds, connect=2.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            transport=transport,
        )
        self.pubsub = pubsub
        self.statestore = statestore
        self.secretstore = secretstore

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> DaprSidecar:
        token = settings.dapr_api_token
        return cls(
            http_port=settings.dapr_http_port,
            api_token=token.get_secret_value() if token else None,
            pubsub=settings.pubsub_name,
            statestore=settings.statestore_name,
            secretstore=settings.secretstore_name,
            timeout_seconds=settings.sidecar_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        try:
            return await self._http.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise DependencyUnavailable(f"{what} did not answer in time.", code="UPSTREAM_TIMEOUT") from exc
        except httpx.TransportError as exc:
            raise DependencyUnavailable(f"{what} is not reachable.", code="SIDECAR_UNREACHABLE") from exc

    async def invoke(
        self,
        app_id: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Call another app through Dapr and return the `data` of its envelope, or raise its error."""
        response = await self._send(
            method,
            "/" + path.lstrip("/"),
            f"The {app_id} service",
            json=json,
            params=params,
            headers={**(headers or {}), "dapr-app-id": app_id},
        )
        return unwrap_envelope(response, app_id)

    async def publish(self, topic: str, event: EventEnvelope) -> None:
        """Publish an event as a CloudEvent whose id is the event id."""
        params = {"metadata.cloudevent.id": event.event_id, "metadata.cloudevent.type": topic}
        response = await self._send(
            "POST",
            f"/v1.0/publish/{self.pubsub}/{quote(topic)}",
            "The message broker",
            content=event.model_dump_json(by_alias=True),
            params=params,
            headers={"content-type": "application/json"},
        )
        _raise_for_publish(response, topic)

    async def publish_cloud_event(self, topic: str, cloud_event: dict[str, Any]) -> None:
        response = await self._send(
            "POST",
            f"/v1.0/publish/{self.pubsub}/{quote(topic)}",
            "The message broker",
            json=cloud_event,
            headers={"content-type": "application/cloudevents+json"},
        )
        _raise_for_publish(response, topic)

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        response = await self._send("GET", f"/v1.0/state/{store or self.statestore}/{quote(key)}", "The state store")
        if response.status_code == 204:
            return None
        if response.status_code != 200:
            raise DependencyUnavailable(
                "Reading state failed.", code="STATE_UNAVAILABLE", details=_dapr_error(response)
            )
        return StateItem(response.json(), response.headers.get("etag"))

    async def save_state(self, key: str, value: Any, *, etag: str | None = None, store: str | None = None) -> None:
        """Save a value; with an ETag the write wins only if nobody wrote in between."""
        item = StateOp(key, value, etag).as_dapr()["request"]
        response = await self._send("POST", f"/v1.0/state/{store or self.statestore}", "The state store", json=[item])
        _raise_for_state(response)

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        """Apply every operation or none; an ETag or insert-only clash raises Conflict(ETAG_MISMATCH)."""
        body = {"operations": [op.as_dapr() for op in operations]}
        url = f"/v1.0/state/{store or self.statestore}/transaction"
        _raise_for_state(await self._send("POST", url, "The state store", json=body))

    async def get_secret(self, key: str, *, store: str | None = None) -> str:
        response = await self._send(
            "GET", f"/v1.0/secrets/{store or self.secretstore}/{quote(key)}", "The secret store"
        )
        if response.status_code != 200:
            raise DependencyUnavailable(
                f"Secret {key} is not available.", code="SECRET_UNAVAILABLE", details=_dapr_error(response)
            )
        secrets: dict[str, str] = response.json()
        return secrets.get(key) or next(iter(secrets.values()))

    async def outbound_ready(self) -> bool:
        """True once the sidecar has loaded its components and can serve the app's calls."""
        try:
            response = await self._http.get("/v1.0/healthz/outbound", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code < 300

    async def metadata(self) -> dict[str, Any]:
        response = await self._send("GET", "/v1.0/metadata", "The sidecar")
        result: dict[str, Any] = response.json()
        return result

    async def wait_until_ready(self, *, timeout_seconds: float) -> None:
        """Poll the sidecar's outbound health until it answers or the deadline passes."""
        deadline = time.monotonic() + timeout_seconds
        while not await self.outbound_ready():
            if time.monotonic() > deadline:
                raise DependencyUnavailable("The sidecar did not become ready.", code="SIDECAR_NOT_READY")
            await asyncio.sleep(0.2)


def _raise_for_publish(response: httpx.Response, topic: str) -> None:
    if response.status_code < 300:
        return
    details = _dapr_error(response)
    if publish_refused(response.status_code, details):
        raise PublishRefused(f"The broker refused {topic}.", details=details)
    raise DependencyUnavailable(f"Publishing {topic} failed.", code="PUBLISH_FAILED", details=details)


def _raise_for_state(response: httpx.Response) -> None:
    if response.status_code < 300:
        return
    details = _dapr_error(response)
    if response.status_code == 409 or "etag" in str(details).lower():
        raise Conflict("The value changed meanwhile.", code="ETAG_MISMATCH")
    raise DependencyUnavailable("Saving state failed.", code="STATE_UNAVAILABLE", details=details)


def _dapr_error(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"status": response.status_code, "body": response.text[:200]}


def unwrap_envelope(response: httpx.Response, app_id: str) -> Any:
    """Return an envelope's data; rebuild an app's error; turn anything the sidecar says into a 503."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("success") is True and response.status_code < 300:
        return body.get("data")
    if isinstance(body, dict) and body.get("success") is False and isinstance(body.get("error"), dict):
        error = body["error"]
        status = int(body.get("statusCode", response.status_code))
        raise error_for_status(
            status, str(error.get("message", "")), code=error.get("code"), details=error.get("details")
        )
    if response.status_code < 300:
        return body
    raise DependencyUnavailable(
        f"The {app_id} service is unavailable.", code="SERVICE_UNAVAILABLE", details={"service": app_id}
    )
