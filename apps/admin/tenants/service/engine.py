"""The workflow engine port and its Dapr adapter: the SDK's WorkflowRuntime and DaprWorkflowClient.

The SDK's worker runs activities on threads (and a loop) of its own, but the activities talk to the
sidecar through admin's asyncio clients (the SDK's aio DaprClient, httpx), which belong to the app's
event loop. So each registered activity is a plain function that hands its coroutine to that loop and
waits for it: one loop, one set of clients, however the worker schedules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any, Protocol

import grpc
from dapr.conf import settings as sdk_settings
from dapr.ext.workflow import DaprWorkflowContext, WorkflowActivityContext, WorkflowRuntime, WorkflowStatus
from dapr.ext.workflow.aio import DaprWorkflowClient
from dapr.ext.workflow.logger import LoggerOptions

from apps.admin.tenants.domain import WorkflowUnavailable
from apps.admin.tenants.service.steps import ACTIVITIES, Run, Steps, perform
from apps.admin.tenants.service.workflow import WORKFLOW, instance_id, provision_tenant

log = logging.getLogger("apps.admin.tenants")


class RunState(StrEnum):
    """Where a provisioning run's workflow instance stands."""

    MISSING = "MISSING"
    RUNNING = "RUNNING"
    ENDED = "ENDED"


class TenantWorkflows(Protocol):
    async def start(self, run: Run) -> None:
        """Schedule the run's workflow unless its instance exists."""
        ...

    async def wait(self, run: Run, *, timeout_seconds: float) -> None:
        """Return when the run's workflow has ended, or after `timeout_seconds` (it goes on)."""
        ...

    async def state(self, run: Run) -> RunState: ...


_ENDED = {WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.TERMINATED}


@asynccontextmanager
async def _engine_call(run: Run, *, seconds: float) -> AsyncIterator[None]:
    """The sidecar's workflow API failing, or not answering within `seconds`, is a 503 like any sidecar
    failure, never a bare 500 nor a request held until the gateway gives up (the SDK's calls have no deadline)."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError as exc:
        log.warning("workflow engine call for %s did not answer within %.0f s", instance_id(run), seconds)
        raise WorkflowUnavailable("The workflow engine is unavailable.", details={"tenantId": run.tenant_id}) from exc
    except grpc.RpcError as exc:
        log.warning("workflow engine call for %s failed: %s", instance_id(run), exc)
        raise WorkflowUnavailable("The workflow engine is unavailable.", details={"tenantId": run.tenant_id}) from exc


def _activity(name: str, on: Steps, loop: asyncio.AbstractEventLoop) -> Callable[..., str]:
    """A worker-thread function that runs the activity on the app's loop and waits for its answer."""

    def activity(ctx: WorkflowActivityContext, data: Any) -> str:
        return asyncio.run_coroutine_threadsafe(perform(name, on, data), loop).result()

    activity.__name__ = name  # a fresh function per runtime: the SDK marks what it registered
    return activity


def _orchestrator() -> Callable[..., Any]:
    def orchestrate(ctx: DaprWorkflowContext, data: Any) -> Any:
        return provision_tenant(ctx, data)

    return orchestrate


class DaprTenantWorkflows:
    """Hosts the provisioning workflow in admin (start/stop in the lifespan) and schedules its runs."""

    def __init__(self, on: Steps, *, grpc_port: int, api_token: str | None, call_timeout_seconds: float) -> None:
        self._on = on
        self._grpc_port = grpc_port
        self._api_token = api_token
        self._call_timeout = call_timeout_seconds
        self._runtime: WorkflowRuntime | None = None
        self._client: DaprWorkflowClient | None = None

    async def __aenter__(self) -> DaprTenantWorkflows:
        # Both read the token from the SDK's process-wide settings, as servicekit's client does (dapr_client.py).
        setattr(sdk_settings, "DAPR_API_TOKEN", self._api_token)  # noqa: B010 - untyped settings object
        loop = asyncio.get_running_loop()
        # The SDK's loggers also print to stderr unless given a handler; the app's JSON logs get them anyway.
        quiet = LoggerOptions(log_handler=logging.NullHandler())
        runtime = WorkflowRuntime(host="127.0.0.1", port=str(self._grpc_port), logger_options=quiet)
        runtime.register_workflow(_orchestrator(), name=WORKFLOW)
        for name in ACTIVITIES:
            runtime.register_activity(_activity(name, self._on, loop), name=name)
        await asyncio.to_thread(runtime.start)  # blocks until the worker's stream is open
        self._runtime = runtime
        self._client = DaprWorkflowClient(host="127.0.0.1", port=str(self._grpc_port), logger_options=quiet)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runtime is not None:
            await asyncio.to_thread(self._runtime.shutdown)
            self._runtime = None

    def _workflows(self) -> DaprWorkflowClient:
        if self._client is None:
            raise RuntimeError("the workflow runtime is not started")
        return self._client

    async def state(self, run: Run) -> RunState:
        async with _engine_call(run, seconds=self._call_timeout):
            found = await self._workflows().get_workflow_state(instance_id(run), fetch_payloads=False)
        if found is None:
            return RunState.MISSING
        return RunState.ENDED if found.runtime_status in _ENDED else RunState.RUNNING

    async def start(self, run: Run) -> None:
        if await self.state(run) is not RunState.MISSING:
            return
        try:
            async with _engine_call(run, seconds=self._call_timeout):
                await self._workflows().schedule_new_workflow(
                    WORKFLOW, input=run.as_input(), instance_id=instance_id(run)
                )
        except WorkflowUnavailable:
            # Scheduled meanwhile by another caller (admin's sweep, a repeated request): the instance exists.
            if await self.state(run) is RunState.MISSING:
                raise
            return
        log.info("provisioning workflow %s scheduled", instance_id(run))

    async def wait(self, run: Run, *, timeout_seconds: float) -> None:
        try:
            # The SDK's own deadline ends the wait; ours only backs it up (TimeoutError either way).
            async with asyncio.timeout(timeout_seconds + 1.0):
                await self._workflows().wait_for_workflow_completion(
                    instance_id(run), fetch_payloads=False, timeout_in_seconds=max(1, round(timeout_seconds))
                )
        except TimeoutError:
            log.info("provisioning workflow %s still running after %.0f s", instance_id(run), timeout_seconds)
        except grpc.RpcError as exc:
            log.warning("workflow engine call for %s failed: %s", instance_id(run), exc)
            raise WorkflowUnavailable(
                "The workflow engine is unavailable.", details={"tenantId": run.tenant_id}
            ) from exc
