"""Jaeger's HTTP query API (its v1 JSON: `/api/traces/{id}` and the search `/api/traces?service=&tags=`), asked
with a short timeout: a trace backend that is down or slow costs the trace view, never anything else."""

from __future__ import annotations

import json
from typing import Any

import httpx

from apps.gateway.traces.domain import TraceNotFound, TracesUnavailable, TraceView, request_trace, trace_view
from servicekit.tracing import REQUEST_ID_ATTRIBUTE

SEARCH_LIMIT = 20
"""Traces one search reads: a request id names one request, unless a client sent the same X-Request-ID again."""
UNAVAILABLE = "The trace backend did not answer; try again shortly."


class JaegerTraceStore:
    """Reads traces from a Jaeger query service; `service` is the app whose span carries a request's id."""

    def __init__(self, client: httpx.AsyncClient, *, service: str) -> None:
        self._client = client
        self.service = service

    @classmethod
    def open(cls, base_url: str, *, timeout_seconds: float, service: str) -> JaegerTraceStore:
        client = httpx.AsyncClient(base_url=base_url, timeout=timeout_seconds, trust_env=False)  # no proxy: it is ours
        return cls(client, service=service)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def trace(self, trace_id: str) -> TraceView:
        traces = await self._traces(f"/api/traces/{trace_id}")
        if not traces:
            raise TraceNotFound("No trace has this id (yet: spans reach the backend within a few seconds).")
        return trace_view(traces[0])

    async def by_request(self, request_id: str) -> TraceView:
        tags = json.dumps({REQUEST_ID_ATTRIBUTE: request_id})
        params = {"service": self.service, "tags": tags, "limit": str(SEARCH_LIMIT)}
        found = request_trace(await self._traces("/api/traces", params), request_id, service=self.service)
        if found is None:
            raise TraceNotFound("No trace has this request id (yet: spans reach the backend within a few seconds).")
        return trace_view(found)

    async def _traces(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The traces Jaeger answered (none for its 404), or TracesUnavailable."""
        try:
            answer = await self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise TracesUnavailable(UNAVAILABLE) from exc
        if answer.status_code == 404:
            return []
        try:
            answer.raise_for_status()
            data = answer.json()["data"]
        except (httpx.HTTPStatusError, ValueError, KeyError, TypeError) as exc:
            raise TracesUnavailable(UNAVAILABLE) from exc
        if data is not None and not isinstance(data, list):
            raise TracesUnavailable(UNAVAILABLE)  # not Jaeger's answer
        return [trace for trace in data or () if isinstance(trace, dict)]
