"""The app's view of its own Dapr sidecar: invocation, pub/sub, state, secrets and health.

Pub/sub, state, secrets and the sidecar's metadata go through Dapr's Python SDK
(`dapr.aio.clients.DaprClient`, gRPC; opened by servicekit.dapr_client once the sidecar is ready),
its errors mapped to the kit's by servicekit.sidecar_errors. Service invocation stays on one pooled
HTTP client with the `dapr-app-id` header, as the SDK's maintainers recommend: the SDK's own
invoke_method opens an aiohttp session per call and answers a bare response, where the kit wants a
pooled client, its timeouts and the peer's envelope. Health stays on HTTP too: gRPC has no health
call, and the SDK's async health helper polls until a deadline (printing each failure) where a
readiness probe needs one bounded answer, also before the SDK client exists.

Relays publish one event per call, not in bulk: daprd publishes a bulk request's entries concurrently
on every broker without native bulk publishing (redis, rabbitmq, jetstream: dapr 1.18
pkg/runtime/pubsub/default_bulkpub.go), so the relays' order would be lost; the SDK's publish_events
sets no per-entry metadata (no `cloudevent.id` = the event id); and a failed entry comes back as text
without a status, so a refusal for good could not be told from a broker failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc.aio
import httpx
from dapr.clients.grpc._state import Concurrency, StateOptions
from dapr.proto import api_v1, common_v1

from servicekit.context import REQUEST_ID_HEADER, current_request_id
from servicekit.dapr_client import KitDaprClient, open_dapr_client
from servicekit.errors import JunctionError, ServiceUnavailable, error_for_status
from servicekit.events import EventEnvelope
from servicekit.metrics import BREAKER_REFUSALS
from servicekit.settings import ServiceSettings
from servicekit.sidecar_errors import (
    BreakerOpen,
    PublishRefused,
    SecretUnavailable,
    SidecarCallTimeout,
    SidecarFailure,
    SidecarNotReady,
    SidecarUnreachable,
    StateUnavailable,
    breaker_refused,
    failure_of,
    metadata_error,
    publish_error,
    secret_error,
    state_read_error,
    state_write_error,
)
from servicekit.tasks import cancelling
from servicekit.tracing import inject_trace

log = logging.getLogger("servicekit.sidecar")

__all__ = ["DaprSidecar", "PublishRefused", "SidecarClient", "StateItem", "StateOp", "unwrap_envelope"]

T = TypeVar("T")
_FIRST_WRITE = common_v1.StateOptions.StateConcurrency.CONCURRENCY_FIRST_WRITE
BULK_READ_PARALLELISM = 8
"""How many keys of one bulk read daprd reads at a time."""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


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

    def as_grpc(self) -> api_v1.TransactionalStateOperation:
        """The operation as daprd's ExecuteStateTransaction takes it; an ETag or insert-only asks for first-write."""
        item = common_v1.StateItem(key=self.key)
        if not self.delete:
            item.value = _json(self.value).encode()
            if self.ttl_seconds is not None:
                item.metadata["ttlInSeconds"] = str(self.ttl_seconds)
        if self.etag is not None:
            item.etag.value = self.etag
        if self.etag is not None or self.insert_only:
            item.options.concurrency = _FIRST_WRITE
        return api_v1.TransactionalStateOperation(operationType="delete" if self.delete else "upsert", request=item)


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

    async def get_bulk_state(self, keys: Sequence[str], *, store: str | None = None) -> dict[str, StateItem]:
        """The keys that exist, with their ETags, read in one call."""
        ...

    async def save_state(
        self, key: str, value: Any, *, etag: str | None = None, store: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        """Save a value; with an ETag only if nobody wrote in between; with a TTL the store forgets it after that."""
        ...

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None: ...

    async def get_secret(self, key: str, *, store: str | None = None) -> str: ...

    async def outbound_ready(self) -> bool: ...


class DaprSidecar:
    """SidecarClient on 127.0.0.1: the SDK's gRPC client for pub/sub, state and secrets, HTTP for the rest."""

    def __init__(
        self,
        *,
        http_port: int,
        grpc_port: int = 50001,
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
        self._ports = (http_port, grpc_port)
        self._api_token = api_token
        self._timeout_seconds = timeout_seconds
        self._sdk: KitDaprClient | None = None
        self._opening = asyncio.Lock()
        self._retiring: set[KitDaprClient] = set()
        self._retirements: set[asyncio.Task[None]] = set()
        self._closed = False
        self.pubsub = pubsub
        self.statestore = statestore
        self.secretstore = secretstore

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> DaprSidecar:
        token = settings.dapr_api_token
        return cls(
            http_port=settings.dapr_http_port,
            grpc_port=settings.dapr_grpc_port,
            api_token=token.get_secret_value() if token else None,
            pubsub=settings.pubsub_name,
            statestore=settings.statestore_name,
            secretstore=settings.secretstore_name,
            timeout_seconds=settings.sidecar_timeout_seconds,
        )

    async def aclose(self) -> None:
        self._closed = True
        await self._http.aclose()
        retirements = list(self._retirements)
        for task in retirements:
            task.cancel()
        clients = [*self._retiring, *([self._sdk] if self._sdk is not None else [])]
        self._sdk = None
        self._retiring.clear()
        for client in clients:
            await client.close()
        await asyncio.gather(*retirements, return_exceptions=True)

    # ---- the SDK client: opened on a ready sidecar, opened again after the sidecar was gone ----
    async def _client(self) -> KitDaprClient:
        if self._closed:
            raise SidecarUnreachable("The sidecar client is closed.")
        if self._sdk is None:
            async with self._opening:
                if self._sdk is None:
                    self._sdk = await self._open()
        return self._sdk

    async def _open(self) -> KitDaprClient:
        # The SDK's constructor polls health synchronously: only on a sidecar that just answered ready.
        if not await self.outbound_ready():
            raise SidecarUnreachable("The sidecar is not reachable.")
        try:
            http_port, grpc_port = self._ports
            return open_dapr_client(
                http_port=http_port,
                grpc_port=grpc_port,
                api_token=self._api_token,
                timeout_seconds=self._timeout_seconds,
            )
        except TimeoutError as exc:
            raise SidecarUnreachable("The sidecar is not reachable.") from exc

    def _retire(self, client: KitDaprClient) -> None:
        """Hand out a new client from now on; close this one once the calls already on it are over.

        gRPC backs its reconnects off (up to 120 s): a channel that saw its sidecar go stays failed for
        seconds after the sidecar is back, where a new one dials at once. It is not closed at once:
        grpc.aio ends the calls still on a closed channel with asyncio.CancelledError, which reads as the
        caller's own cancellation; a relay's loop took it for its stop and published nothing more (chaos,
        kafka, after orders' sidecar was SIGKILLed). Each call ends by its deadline, so one deadline's
        grace (and a second for calls that took the client just before) lets every one finish first.
        """
        if self._sdk is not client:
            return  # already retired by another call that saw the sidecar go
        self._sdk = None
        self._retiring.add(client)
        task = asyncio.create_task(self._close_retired(client), name="retire a sidecar client")
        self._retirements.add(task)
        task.add_done_callback(self._retirements.discard)

    async def _close_retired(self, client: KitDaprClient) -> None:
        try:
            await client.close(grace_seconds=2 * self._timeout_seconds)
        except asyncio.CancelledError:
            await client.close()  # stopped during its grace (the loop is ending): not left half closed
            raise
        except Exception:
            log.exception("a retired sidecar client did not close")
        finally:
            self._retiring.discard(client)

    async def _call(
        self, call: Callable[[KitDaprClient], Awaitable[T]], error: Callable[[SidecarFailure], JunctionError]
    ) -> T:
        """Run one SDK call; its gRPC failure becomes the kit's error through `error`.

        A call that took the client just before another call retired it finds its channel closing
        (UsageError): it never left, so it goes once more, on the new client.
        """
        for last_try in (False, True):
            client = await self._client()
            try:
                return await call(client)
            except grpc.aio.UsageError:
                if last_try or self._closed:
                    raise SidecarUnreachable("The sidecar is not reachable.") from None
            except asyncio.CancelledError:
                if cancelling():
                    raise
                # Not this task's stop: the client was closed under the call (the app is shutting down).
                raise SidecarUnreachable("The sidecar is not reachable.") from None
            except Exception as exc:
                failure = failure_of(exc)
                if failure is None:
                    raise
                if failure.unreachable:
                    self._retire(client)
                raise error(failure) from exc
        raise AssertionError("unreachable")

    # ---- invocation: HTTP ----
    async def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        inject_trace(headers)
        try:
            return await self._http.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise SidecarCallTimeout(f"{what} did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise SidecarUnreachable(f"{what} is not reachable.") from exc

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

    # ---- pub/sub, state, secrets, metadata: the SDK ----
    async def publish(self, topic: str, event: EventEnvelope) -> None:
        """Publish an event as a CloudEvent whose id is the event id."""
        metadata = {"cloudevent.id": event.event_id, "cloudevent.type": topic}
        body = event.model_dump_json(by_alias=True)
        await self._call(
            lambda dapr: dapr.publish_event(
                self.pubsub, topic, body, publish_metadata=metadata, data_content_type="application/json"
            ),
            lambda failure: publish_error(failure, topic),
        )

    async def publish_cloud_event(self, topic: str, cloud_event: dict[str, Any]) -> None:
        body = _json(cloud_event)
        await self._call(
            lambda dapr: dapr.publish_event(self.pubsub, topic, body, data_content_type="application/cloudevents+json"),
            lambda failure: publish_error(failure, topic),
        )

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        response = await self._call(lambda dapr: dapr.get_state(store or self.statestore, key), state_read_error)
        if not response.data:  # daprd answers a missing key with no data and no ETag
            return None
        return StateItem(json.loads(response.data), response.etag or None)

    async def get_bulk_state(self, keys: Sequence[str], *, store: str | None = None) -> dict[str, StateItem]:
        """One call for many keys (daprd reads them in parallel); one key's read failing fails the whole read."""
        response = await self._call(
            lambda dapr: dapr.get_bulk_state(store or self.statestore, list(keys), parallelism=BULK_READ_PARALLELISM),
            state_read_error,
        )
        found: dict[str, StateItem] = {}
        for item in response.items:
            if item.error:
                raise StateUnavailable(f"The state store could not read {item.key!r}.", details={"error": item.error})
            if item.data:  # a missing key comes back with no data and no ETag, as from get_state
                found[item.key] = StateItem(json.loads(item.data), item.etag or None)
        return found

    async def save_state(
        self, key: str, value: Any, *, etag: str | None = None, store: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        """Save a value; with an ETag the write wins only if nobody wrote in between; a TTL is `ttlInSeconds`."""
        options = StateOptions(concurrency=Concurrency.first_write) if etag is not None else None
        metadata = {"ttlInSeconds": str(ttl_seconds)} if ttl_seconds is not None else {}
        await self._call(
            lambda dapr: dapr.save_state(
                store or self.statestore, key, _json(value), etag=etag, options=options, state_metadata=metadata
            ),
            state_write_error,
        )

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        """Apply every operation or none; an ETag or insert-only clash raises ETagMismatch (a Conflict).

        They go in key order, one key's operations keeping theirs. daprd applies them one by one, and a store
        that locks each row it writes (postgres) would deadlock two transactions taking the same keys in
        opposite orders: a second later PostgreSQL aborts one (SQLSTATE 40P01), a 503 to its caller. Two
        reservations of the same products listed in different orders, by two catalog instances, did.
        """
        ops = [op.as_grpc() for op in sorted(operations, key=lambda op: op.key)]
        await self._call(lambda dapr: dapr.execute_transaction(store or self.statestore, ops), state_write_error)

    async def get_secret(self, key: str, *, store: str | None = None) -> str:
        response = await self._call(
            lambda dapr: dapr.get_secret(store or self.secretstore, key), lambda failure: secret_error(failure, key)
        )
        secrets: dict[str, str] = dict(response.secret)
        if not secrets:
            raise SecretUnavailable(f"Secret {key} is not available.")
        return secrets.get(key) or next(iter(secrets.values()))

    async def components(self) -> list[dict[str, Any]]:
        """The components the sidecar loaded (name, type, version)."""
        response = await self._call(lambda dapr: dapr.get_metadata(), metadata_error)
        return [{"name": c.name, "type": c.type, "version": c.version} for c in response.registered_components]

    # ---- health: HTTP ----
    async def outbound_ready(self) -> bool:
        """True once the sidecar has loaded its components and can serve the app's calls."""
        try:
            response = await self._http.get("/v1.0/healthz/outbound", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code < 300

    async def wait_until_ready(self, *, timeout_seconds: float) -> None:
        """Poll the sidecar's outbound health until it answers or the deadline passes, then open the SDK client."""
        deadline = time.monotonic() + timeout_seconds
        while not await self.outbound_ready():
            if time.monotonic() > deadline:
                raise SidecarNotReady("The sidecar did not become ready.")
            await asyncio.sleep(0.2)
        await self._client()


def unwrap_envelope(response: httpx.Response, app_id: str) -> Any:
    """Return an envelope's data; rebuild an app's error; turn anything the sidecar says into a 503.

    A refusal by the peer's open circuit breaker is counted (servicekit.metrics) and raised as BreakerOpen (a 503).
    """
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
    if (
        isinstance(body, dict)
        and body.get("errorCode") == "ERR_DIRECT_INVOKE"
        and breaker_refused(str(body.get("message", "")))
    ):
        BREAKER_REFUSALS.labels(app_id).inc()
        raise BreakerOpen(f"The {app_id} service is unavailable.", details={"service": app_id})
    # What the sidecar said stays in this app's log (a caller sees the 503 only): the one clue to a blip.
    log.warning("the sidecar could not reach %s: HTTP %s %s", app_id, response.status_code, response.text[:300])
    raise ServiceUnavailable(f"The {app_id} service is unavailable.", details={"service": app_id})
