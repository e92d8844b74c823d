"""Only admin, presenting the shared key, may call the provisioner; the probes stay open."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.provisioner.helpers import (
    KEY,
    SCHOOL_TABLES,
    empty_sqlite,
    init_database,
    refusal,
    tables_in,
)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"dapr-caller-app-id": "admin"},
        {"x-provisioner-key": KEY},
        {"dapr-caller-app-id": "orders", "x-provisioner-key": KEY},
        {"dapr-caller-app-id": "Admin", "x-provisioner-key": KEY},
        {"dapr-caller-app-id": "admin", "x-provisioner-key": "wrong-key"},
        {"dapr-caller-app-id": "admin", "x-provisioner-key": ""},
        {"dapr-caller-app-id": "admin", "x-provisioner-key": KEY + "x"},
    ],
    ids=[
        "no-headers",
        "no-key",
        "no-caller",
        "wrong-caller",
        "caller-case",
        "wrong-key",
        "empty-key",
        "longer-key",
    ],
)
def test_refused_unless_admin_with_the_key_and_nothing_is_touched(
    tmp_path: Path, headers: dict[str, str], client: TestClient
) -> None:
    path, url = empty_sqlite(tmp_path)

    body = refusal(init_database(client, url, headers=headers))

    assert (body["statusCode"], body["error"]["code"]) == (403, "CALLER_NOT_ALLOWED")
    assert path.stat().st_size == 0
    assert tables_in(path) == []


def test_refused_before_the_body_is_even_judged(client: TestClient) -> None:
    response = client.post("/init-database", json={"unexpected": 1}, headers={"dapr-caller-app-id": "orders"})

    body = refusal(response)

    assert body["error"]["code"] == "CALLER_NOT_ALLOWED"


def test_admin_with_the_key_is_served(tmp_path: Path, client: TestClient) -> None:
    _, url = empty_sqlite(tmp_path)

    response = init_database(client, url, headers={"dapr-caller-app-id": "admin", "x-provisioner-key": KEY})

    assert response.status_code == 200, response.text
    assert response.json()["data"]["tablesCreated"] == SCHOOL_TABLES


def test_probes_need_no_caller_headers(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
