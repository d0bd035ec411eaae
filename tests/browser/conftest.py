"""Browser journeys: Playwright driving Debian's Chromium against the live test server.

Playwright's own browser download does not work on these machines, so the
journeys launch /usr/bin/chromium, which `make test` installs where missing.
Skip them locally with `make test PYTEST_ARGS='-m "not browser"'`; CI never does.
"""

import os
import re
from pathlib import Path

import pytest

from tests.personas import totp_code

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls
# made by the test itself (fixtures, assertions) are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (make test does it).")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def shots(request):
    """Saves a screenshot of every page a journey passes: shots(page, "name")."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    take.folder = folder  # type: ignore[attr-defined]
    return take


@pytest.fixture
def axe():
    """Runs axe-core on the page and returns serious or critical violations."""
    source = AXE.read_text()

    def check(page) -> list[dict]:
        page.evaluate(source)  # evaluated over the DevTools protocol: not blocked by the CSP
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return check


@pytest.fixture
def admin_login(live_server):
    """Logs a staff user into the admin as a person would: password, then the code."""

    def login(page, user, password: str) -> None:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_auth-username", user.username)
        page.fill("#id_auth-password", password)
        page.get_by_role("button", name=re.compile("Seuraava|Next")).click()
        page.fill("#id_token-otp_token", totp_code(user))
        page.get_by_role("button", name=re.compile("Seuraava|Next")).click()

    return login


@pytest.fixture(autouse=True)
def migration_data(transactional_db):
    """Transactional tests empty every table afterwards, data migrations' rows included;
    each journey starts with them again (the staff groups, the controller's details)."""
    import importlib

    from django.apps import apps

    from privacy.groups import sync_groups

    seed = importlib.import_module("privacy.migrations.0006_controller_and_groups").seed_controller
    seed(apps, None)
    sync_groups(apps)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A Finnish browser: the admin follows Accept-Language; public pages follow the URL."""
    return {**browser_context_args, "locale": "fi-FI", "accept_downloads": True}
