"""What every gRPC servicer method of a Junction app does around its use case: the gRPC edge's error handler.

The caller's request id and trace context are adopted (or made) for the logs and any call onward, as the HTTP
middleware does; a JunctionError leaves as its gRPC status (servicekit.grpc_errors) with its code
in the trailing metadata; a database that cannot serve is DATABASE_UNAVAILABLE, as on HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

from grpc import aio
from opentelemetry import propagate, trace

from servicekit.context import REQUEST_ID_HEADER, accept_request_id, request_id_var
from servicekit.database import DATABASE_DOWN, DatabaseUnavailable
from servicekit.errors import JunctionError
from servicekit.grpc_errors import CODE_KEY, status_of
from servicekit.tracing import tracer

log = logging.getLogger("servicekit.grpc")


async def abort(context: aio.ServicerContext[object, object], err: JunctionError) -> NoReturn:
    """End the call with `err`'s status, its message, and its code as `junction-code`."""
    context.set_trailing_metadata(((CODE_KEY, err.code),))
    await context.abort(status_of(err), err.message)
    raise AssertionError("abort raises")  # pragma: no cover


@asynccontextmanager
async def handling(context: aio.ServicerContext[object, object], method: str) -> AsyncIterator[None]:
    """Run one call of `method` under the caller's request id, in a server span of the caller's trace;
    answer its failures in the one error model."""
    metadata = {str(key): str(value) for key, value in context.invocation_metadata() or ()}
    token = request_id_var.set(accept_request_id(metadata.get(REQUEST_ID_HEADER.lower())))
    parent = propagate.extract(metadata)
    try:
        with tracer.start_as_current_span(method, context=parent, kind=trace.SpanKind.SERVER):
            yield
    except JunctionError as err:
        await abort(context, err)
    except DATABASE_DOWN as exc:
        log.warning("the database could not serve the call: %s", exc)
        await abort(context, DatabaseUnavailable("The database is unavailable."))
    finally:
        request_id_var.reset(token)
