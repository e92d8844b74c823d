"""The provisioner, the peer admin calls: migrate a tenant database and say which tables it now has."""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from apps.admin.tenants.domain import ProvisionerBadAnswer
from servicekit import SidecarClient
from servicekit.provisioning import PROVISIONER_KEY_HEADER


class SchemaProvisioner(Protocol):
    async def init_database(self, database_url: str) -> tuple[str, ...]:
        """Bring the database's school schema up to date; return its tables, sorted."""
        ...


class _InitDatabaseAnswer(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="ignore")

    success: Literal[True]
    message: str = ""
    tables_created: list[Annotated[str, Field(min_length=1, max_length=200)]]


class DaprSchemaProvisioner:
    """`POST /init-database` on the provisioner through the sidecar, with admin's shared key."""

    def __init__(self, sidecar: SidecarClient, *, app_id: str, key: str) -> None:
        self.sidecar = sidecar
        self.app_id = app_id
        self._key = key

    async def init_database(self, database_url: str) -> tuple[str, ...]:
        data = await self.sidecar.invoke(
            self.app_id,
            "POST",
            "/init-database",
            json={"databaseUrl": database_url},
            headers={PROVISIONER_KEY_HEADER: self._key},
        )
        try:
            answer = _InitDatabaseAnswer.model_validate(data)
        except ValidationError as exc:
            raise ProvisionerBadAnswer("The provisioner answered something admin cannot read.") from exc
        return tuple(sorted(answer.tables_created))
