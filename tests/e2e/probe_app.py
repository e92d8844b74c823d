"""A test-only subscriber: it subscribes to PROBE_TOPICS through its sidecar and records what arrives."""

from __future__ import annotations

import os
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

app = FastAPI()
received: list[dict[str, Any]] = []
TOPICS = [t for t in os.environ.get("PROBE_TOPICS", "").split(",") if t]


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/dapr/subscribe")
async def subscriptions() -> list[dict[str, str]]:
    return [{"pubsubname": "pubsub", "topic": topic, "route": f"/events/{topic}"} for topic in TOPICS]


@app.post("/events/{topic}")
async def record(topic: str, request: Request) -> dict[str, str]:
    received.append({"topic": topic, "event": await request.json(), "headers": dict(request.headers)})
    return {"status": "SUCCESS"}


@app.get("/received")
async def list_received() -> list[dict[str, Any]]:
    return received


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["APP_PORT"]), log_level="warning")
