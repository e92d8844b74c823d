"""The operator page's serving part: the page with its content policy, its files, and nothing else under /ui."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from apps.gateway import ui
from apps.gateway.main import create_app
from apps.gateway.settings import GatewaySettings
from apps.gateway.ui.files import STATIC, VENDOR
from tests.unit.gateway.helpers import TOKENS, bearer, services

IMPORT = re.compile(r"""^\s*(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']""", re.MULTILINE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def client_of(settings: GatewaySettings | None = None, files: ui.UiFiles | None = None) -> TestClient:
    app = create_app(settings or GatewaySettings(), services=services(tokens=TOKENS), ui_files=files)
    return TestClient(app)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with client_of() as test_client:
        yield test_client


def test_the_page_answers_its_html_under_a_strict_policy(client: TestClient) -> None:
    for path in ("/ui", "/ui/", "/ui/index.html"):
        page = client.get(path)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert '<script type="module" src="/ui/app.js"></script>' in page.text
        policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
        assert policy["connect-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"


def test_the_page_has_no_inline_script_style_or_handler() -> None:
    """What `script-src 'self'` and `style-src 'self'` would block anyway: none of it is written."""
    for path in STATIC.glob("*.html"):
        text = path.read_text()
        assert all(' src="' in tag for tag in re.findall(r"<script\b[^>]*>", text)), path.name
        assert "<style" not in text and " style=" not in text and not INLINE_HANDLER.search(text), path.name


def test_every_file_the_setup_vendors_is_there_and_served_as_a_script(client: TestClient) -> None:
    """After `make setup` (tools/ui/install): each file package.json vendors is served, none from elsewhere."""
    for name in ui.vendored_names():
        assert (VENDOR / name).is_file(), f"{name} is missing from {VENDOR}: run `make setup`"
        served = client.get(f"/ui/vendor/{name}")
        assert served.status_code == 200
        assert served.content == (VENDOR / name).read_bytes()
        if name.endswith(".mjs"):
            assert served.headers["content-type"] == "text/javascript; charset=utf-8"
            assert served.headers["cache-control"] == "no-cache"
            assert served.headers["content-security-policy"] == ui.CONTENT_SECURITY_POLICY


def test_every_module_imports_only_files_the_page_serves(client: TestClient) -> None:
    """Nothing is fetched at run time from anywhere but the gateway: every import is one of its own files."""
    served = set(ui.UiFiles.installed().names)
    for path in STATIC.glob("*.js"):
        for target in IMPORT.findall(path.read_text()):
            assert target.startswith("./"), f"{path.name} imports {target}"
            assert target.removeprefix("./") in served, f"{path.name} imports {target}, which is not served"
        assert "http://" not in path.read_text() and "https://" not in path.read_text(), path.name
    assert client.get("/ui/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/ui/app.css").headers["content-type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/ui/nothing.js",
        "/ui/vendor/",
        "/ui/vendor/nothing.mjs",
        "/ui/../main.py",
        "/ui/%2e%2e/settings.py",
        "/ui/..%2fsettings.py",
        "/ui/files.py",
        "/ui/package.json",
        "/ui/static/app.js",
        "/ui/app.js/",
    ],
)
def test_unknown_files_are_a_404_in_the_error_envelope(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404, answer.text
    body = answer.json()
    assert body["success"] is False and body["statusCode"] == 404
    assert body["error"]["code"] in {"UI_FILE_NOT_FOUND", "ROUTE_NOT_FOUND"}
    if answer.request.url.path.startswith("/ui/"):  # the client resolves a plain `..` before sending
        assert answer.headers["x-frame-options"] == "DENY"  # the edge's headers on errors under /ui too


def test_a_page_whose_library_was_not_installed_says_so(tmp_path: Path) -> None:
    files = ui.UiFiles(STATIC, tmp_path / "vendor", vendored=ui.vendored_names())
    with client_of(files=files) as client:
        answer = client.get("/ui")
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "UI_NOT_INSTALLED" and "make setup" in error["message"]
    assert error["details"]["missing"] == [f"vendor/{name}" for name in ui.vendored_names()]


def test_the_links_are_for_admins_and_leave_the_trace_ui_out_when_unset(client: TestClient) -> None:
    assert client.get("/ui/config.json").json()["error"]["code"] == "AUTH_REQUIRED"
    assert client.get("/ui/config.json", headers=bearer("customer")).json()["error"]["code"] == "ADMIN_ONLY"
    answer = client.get("/ui/config.json", headers=bearer("admin"))
    assert answer.json()["data"] == {"traceUiUrl": None, "apiDocsUrl": "/docs"}


def test_the_trace_ui_is_a_typed_setting() -> None:
    settings = GatewaySettings(trace_ui_url="http://127.0.0.1:16686/")
    with client_of(settings) as client:
        data = client.get("/ui/config.json", headers=bearer("admin")).json()["data"]
    assert data["traceUiUrl"] == "http://127.0.0.1:16686"
    assert GatewaySettings(trace_ui_url="").trace_ui_url is None  # TRACE_UI_URL= is unset
    with pytest.raises(ValueError, match="URL"):
        GatewaySettings(trace_ui_url="javascript:alert(1)")


def test_the_json_api_keeps_its_own_headers(client: TestClient) -> None:
    """The page's policy is for /ui alone: /docs loads Swagger UI from its CDN, the API answers JSON."""
    assert "content-security-policy" not in client.get("/docs").headers
    assert "content-security-policy" not in client.get("/api/v1/gateway/status").headers
    assert "content-security-policy" not in client.get("/uix").headers
