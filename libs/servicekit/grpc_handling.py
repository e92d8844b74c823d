"""What every gRPC servicer method of a Junction app does around its use case: the gRPC edge's error handler.

The caller's request id is adopted (or made) for the logs and any call onward, as the HTTP
middleware does; a JunctionError leaves as its gRPC status (servicekit.grpc_errors) with its code
in the trailing metadata; a database that cannot serve is DATABASE_UNAVAILABLE, as on HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

from grpc import aio

from servicekit.context import REQUEST_ID_HEADER, accept_request_id, request_id_var
from servicekit.database import DATABASE_DOWN, DatabaseUnavailable
from servicekit.errors import JunctionError
from servicekit.grpc_errors import CODE_KEY, status_of

log = logging.getLogger("servicekit.grpc")


async def abort(context: aio.ServicerContext[object, object], err: JunctionError) -> NoReturn:
    """End the call with `err`'s status, its message, and its code as `junction-code`."""
    context.set_trailing_metadata(((CODE_KEY, err.code),))
    await context.abort(status_of(err), err.message)
    raise AssertionError("abort raises")  # pragma: no cover


@asynccontextmanager
async def handling(context: aio.ServicerContext[object, object]) -> AsyncIterator[None]:
    """Run one call under the caller's request id; answer its failures in the one error model."""
    sent = next((str(v) for k, v in context.invocation_metadata() or () if k == REQUEST_ID_HEADER.lower()), None)
    token = request_id_var.set(accept_request_id(sent))
    try:
        yield
    except JunctionError as err:
        await abort(context, err)
    except DATABASE_DOWN as exc:
        log.warning("the database could not serve the call: %s", exc)
        await abort(context, DatabaseUnavailable("The database is unavailable."))
    finally:
        request_id_var.reset(token)
