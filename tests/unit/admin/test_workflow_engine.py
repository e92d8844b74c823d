"""admin's adapter over the SDK's workflow client: every call bounded, a 503 (never a held request) when the
engine does not answer, and a run someone else scheduled meanwhile taken as scheduled."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from dapr.ext.workflow import WorkflowStatus

from apps.admin.tenants.domain import WorkflowUnavailable
from apps.admin.tenants.service.engine import DaprTenantWorkflows, RunState
from apps.admin.tenants.service.steps import Run
from apps.admin.tenants.service.workflow import instance_id
from tests.unit.admin.helpers import onboarding_kit

pytestmark = pytest.mark.anyio

RUN = Run("4f344cd6473b557a84786e7d10a4eae6", 1)
CALL_TIMEOUT = 0.2


class Refused(grpc.RpcError):
    def __str__(self) -> str:
        return "StatusCode.UNKNOWN: an instance with this id exists"


@dataclass
class Found:
    runtime_status: WorkflowStatus


@dataclass
class FakeWorkflowClient:
    """The SDK's aio DaprWorkflowClient as far as admin uses it; `hang` names the calls that never answer."""

    instances: dict[str, WorkflowStatus] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    refuse_schedule: bool = False
    waits: list[int] = field(default_factory=list)

    async def _maybe_hang(self, call: str) -> None:
        if call in self.hang:
            await asyncio.Event().wait()

    async def get_workflow_state(self, instance: str, *, fetch_payloads: bool) -> Found | None:
        await self._maybe_hang("state")
        status = self.instances.get(instance)
        return None if status is None else Found(status)

    async def schedule_new_workflow(self, workflow: str, *, input: Any, instance_id: str) -> str:
        await self._maybe_hang("schedule")
        if self.refuse_schedule:
            self.instances[instance_id] = WorkflowStatus.RUNNING  # another caller got there first
            raise Refused()
        self.instances[instance_id] = WorkflowStatus.PENDING
        return instance_id

    async def wait_for_workflow_completion(
        self, instance: str, *, fetch_payloads: bool, timeout_in_seconds: int
    ) -> None:
        self.waits.append(timeout_in_seconds)
        await self._maybe_hang("wait")


def engine(client: FakeWorkflowClient) -> DaprTenantWorkflows:
    on = onboarding_kit().on  # the activities are never run here: only the client's calls are
    workflows = DaprTenantWorkflows(on, grpc_port=1, api_token=None, call_timeout_seconds=CALL_TIMEOUT)
    workflows._client = client  # type: ignore[assignment]
    return workflows


@pytest.mark.parametrize("call", ["state", "schedule"])
async def test_an_engine_that_does_not_answer_is_a_503_within_the_call_timeout(call: str) -> None:
    workflows = engine(FakeWorkflowClient(hang={call}))
    started = time.monotonic()
    with pytest.raises(WorkflowUnavailable) as refused:
        await workflows.start(RUN)
    assert refused.value.details == {"tenantId": RUN.tenant_id}
    assert time.monotonic() - started < 4 * CALL_TIMEOUT + 0.5


async def test_a_run_scheduled_by_another_caller_meanwhile_counts_as_scheduled() -> None:
    client = FakeWorkflowClient(refuse_schedule=True)
    await engine(client).start(RUN)
    assert client.instances == {instance_id(RUN): WorkflowStatus.RUNNING}


async def test_a_refused_schedule_of_a_run_still_missing_is_a_503() -> None:
    client = FakeWorkflowClient(refuse_schedule=True)
    workflows = engine(client)

    async def stays_missing(instance: str, *, fetch_payloads: bool) -> None:
        return None

    client.get_workflow_state = stays_missing  # type: ignore[method-assign]
    with pytest.raises(WorkflowUnavailable):
        await workflows.start(RUN)


async def test_states_of_runs() -> None:
    client = FakeWorkflowClient()
    workflows = engine(client)
    assert await workflows.state(RUN) is RunState.MISSING
    await workflows.start(RUN)
    assert await workflows.state(RUN) is RunState.RUNNING
    client.instances[instance_id(RUN)] = WorkflowStatus.FAILED
    assert await workflows.state(RUN) is RunState.ENDED


async def test_a_wait_the_sdk_does_not_end_ends_by_our_own_bound() -> None:
    client = FakeWorkflowClient(hang={"wait"})
    started = time.monotonic()
    await engine(client).wait(RUN, timeout_seconds=0.4)  # answers the tenant as it stands, no error
    assert client.waits == [1] and time.monotonic() - started < 2.0
