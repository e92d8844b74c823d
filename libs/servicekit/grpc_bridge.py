"""Dapr's AppCallback for a gRPC app whose HTTP routes stay a FastAPI app: one code path for both.

daprd hands a gRPC app every HTTP invocation (`/users`, `/readyz`, ...) as AppCallback.OnInvoke:
the verb and query in `http_extension`, the body in `data`, the caller's headers as metadata (with
the app token that daprd adds). `AsgiAppCallback` replays that as an ASGI request on the app, in
process, so routes, validation, middleware and the error envelope are the ones HTTP apps have.

What the HTTP caller gets back (dapr 1.18 pkg/api/http/directmessaging.go): an OK status becomes
HTTP 200 with `data` as the body and `content_type` as its type; response metadata become headers
(X-Request-ID, X-Junction-Status); any other status becomes its HTTP mapping with a body of Dapr's
own. The app already answers refusals and a dependency's 503 as 200 inside the mesh (the envelope
carries `statusCode`), so every answer below 500 goes back OK and callers read the envelope as
before; a crash (500 and up) goes back as INTERNAL (or UNAVAILABLE / DEADLINE_EXCEEDED for a 503
or 504) so the caller sees a failure. A 201 arrives as 200: the gateway sets its own status.

The app subscribes to nothing programmatically (subscriptions are declared), so
ListTopicSubscriptions and ListInputBindings answer empty lists.
"""

from __future__ import annotations

import logging

import grpc
import httpx
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import appcallback_pb2, appcallback_pb2_grpc
from fastapi import FastAPI
from google.protobuf import any_pb2, empty_pb2
from grpc import aio

log = logging.getLogger("servicekit.grpc")

_FORWARDED_HEADERS = frozenset({"x-request-id", "x-junction-status", "retry-after", "allow"})
"""Response headers that travel back as metadata (the rest, content-length say, means nothing there)."""
_FAILURES = {503: grpc.StatusCode.UNAVAILABLE, 504: grpc.StatusCode.DEADLINE_EXCEEDED}
_VERBS = {value: name for name, value in common_pb2.HTTPExtension.Verb.items() if name != "NONE"}


class AsgiAppCallback(appcallback_pb2_grpc.AppCallbackServicer):
    """OnInvoke as an in-process ASGI request on the FastAPI app; no programmatic subscriptions or bindings."""

    def __init__(self, app: FastAPI) -> None:
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 0)), base_url="http://app"
        )

    async def OnInvoke(
        self, request: common_pb2.InvokeRequest, context: aio.ServicerContext[object, object]
    ) -> common_pb2.InvokeResponse:
        verb = _VERBS.get(request.http_extension.verb, "POST")
        headers = [(str(key), str(value)) for key, value in context.invocation_metadata() or () if _is_header(key)]
        if request.content_type:
            headers.append(("content-type", request.content_type))
        answer = await self._client.request(
            verb,
            "/" + request.method.lstrip("/"),
            params=httpx.QueryParams(request.http_extension.querystring),
            headers=headers,
            content=request.data.value,
        )
        forwarded = [(key, value) for key, value in answer.headers.items() if key in _FORWARDED_HEADERS]
        if answer.status_code >= 500:
            context.set_trailing_metadata(tuple(forwarded))
            await context.abort(_FAILURES.get(answer.status_code, grpc.StatusCode.INTERNAL), _message(answer))
        await context.send_initial_metadata(tuple(forwarded))
        return common_pb2.InvokeResponse(
            data=any_pb2.Any(value=answer.content), content_type=answer.headers.get("content-type", "")
        )

    async def ListTopicSubscriptions(
        self, request: empty_pb2.Empty, context: aio.ServicerContext[object, object]
    ) -> appcallback_pb2.ListTopicSubscriptionsResponse:
        return appcallback_pb2.ListTopicSubscriptionsResponse()

    async def ListInputBindings(
        self, request: empty_pb2.Empty, context: aio.ServicerContext[object, object]
    ) -> appcallback_pb2.ListInputBindingsResponse:
        return appcallback_pb2.ListInputBindingsResponse()


class AppHealthCheck(appcallback_pb2_grpc.AppCallbackHealthCheckServicer):
    """daprd's app health probe (enableAppHealthCheck): the process serves, as `/healthz` says on HTTP."""

    async def HealthCheck(
        self, request: empty_pb2.Empty, context: aio.ServicerContext[object, object]
    ) -> appcallback_pb2.HealthCheckResponse:
        return appcallback_pb2.HealthCheckResponse()


def _is_header(key: str) -> bool:
    """Metadata that may become a request header: not gRPC's own, not binary, not a pseudo-header."""
    return not key.startswith((":", "grpc-")) and not key.endswith("-bin") and key not in ("content-type", "user-agent")


def _message(answer: httpx.Response) -> str:
    try:
        error = answer.json().get("error", {})
    except ValueError:
        return f"HTTP {answer.status_code}"
    return str(error.get("message") or f"HTTP {answer.status_code}") if isinstance(error, dict) else "failed"
