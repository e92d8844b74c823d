"""The base of every app's wire shapes: camelCase JSON, snake_case in Python, unknown fields refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    """A request or answer of an app's own API; event payloads use `servicekit.payloads.Payload` instead."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
