"""The Prefect UI of the test server, seen by a headless Chromium (Debian's `chromium`, driven
by Playwright; `make test` installs it): a deployment's run form, a flow run's graph, a
checkpoint's approval form and the execution log artifact. The screenshots the README shows
are written to docs/screenshots/ by these tests, and only once their assertions have passed."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from uuid import UUID

import httpx
import pytest
from conftest import REPO
from test_deployments import _deployment, _of_run
from workers import logs_of, wait_for

pytestmark = pytest.mark.timeout(300)  # maybe the session's server start, then runs and a browser

SCREENSHOTS = REPO / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@asynccontextmanager
async def _ui(served) -> AsyncIterator[tuple]:
    """A page of a fresh headless Chromium and the UI's base URL (the V2 UI, where `/` leads)."""
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (`make test` installs Debian's chromium)")
    from playwright.async_api import async_playwright

    origin = served.api_url.removesuffix("/api")
    settings = httpx.get(f"{origin}/ui-settings", timeout=10).json()
    base = origin + (settings.get("v2_base_url") or "").rstrip("/")

    async def route(route):
        url = route.request.url
        if not url.startswith(origin + "/"):
            await route.abort()  # the UI's analytics and anything else off this machine
        elif url.split("?")[0].endswith("/ui-settings"):
            # `prefect server start --port` does not tell the UI its own port (it says :4200)
            response = await route.fetch()
            body = {**await response.json(), "api_url": served.api_url}
            await route.fulfill(response=response, body=json.dumps(body))
        else:
            await route.continue_()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            context = await browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
            context.set_default_timeout(60_000)
            await context.route("**/*", route)
            yield await context.new_page(), base
        finally:
            await browser.close()


def _save(name: str, png: bytes) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / name).write_bytes(png)


async def _settled(locator, *, attempts: int = 40) -> None:
    """Waits until a canvas (drawn and animated by script, nothing to select in the DOM) looks
    the same in two screenshots in a row."""
    previous = b""
    for _ in range(attempts):
        shot = await locator.screenshot(animations="disabled")
        if shot == previous:
            return
        previous = shot
        await asyncio.sleep(0.25)
    raise AssertionError("the flow run graph never stopped changing")


@pytest.fixture(scope="module")
def runs(served) -> Iterator[dict[str, UUID]]:
    """An order-report run and an approval-gate run, started at once so that they run while the
    first test looks at the run form. The reviewer's time (review_timeout_ms) is long enough that
    the checkpoint's default never answers before the test does."""
    from prefect.client.orchestration import SyncPrefectClient

    with SyncPrefectClient(served.api_url) as client:
        started = {}
        for name, parameters in [("order-report", {"min_total": 50}), ("approval-gate", {"review_timeout_ms": 600_000})]:
            deployment = client.read_deployment_by_name(f"{name}/{name}")
            started[name] = client.create_flow_run_from_deployment(deployment.id, parameters=parameters).id
        yield started
        approval = client.read_flow_run(started["approval-gate"])
        if approval.state and not approval.state.is_final():  # a test failed or was deselected: do not leave it waiting
            client.resume_flow_run(approval.id, run_input={"action": "reject", "comment": "test cleanup"})


@pytest.mark.usefixtures("runs")  # started now, looked at by the next tests
async def test_the_run_form_of_a_deployment_shows_its_config_fields(served, client):
    deployment = await _deployment(client, "order-report")
    async with _ui(served) as (page, base):
        await page.goto(f"{base}/deployments/deployment/{deployment.id}")
        await page.get_by_role("button", name="Run", exact=True).click()
        await page.get_by_role("menuitem", name="Custom run").click()
        await page.wait_for_url(f"**/deployments/deployment/{deployment.id}/run**")
        for field, description in [("min_total", "Smallest order total to report"), ("title", "Report title"),
                                   ("input", "The run's input (JSON)")]:
            await page.get_by_text(f"{field} (Optional)", exact=True).wait_for()
            await page.get_by_text(description, exact=False).first.wait_for()
        values = [await box.input_value() for box in await page.locator("input, textarea").all()]
        assert "10" in values and "Paid orders" in values, values  # the config defaults
        _save("run-form.png", await page.screenshot(animations="disabled"))


async def test_a_flow_run_page_shows_the_graph_of_its_task_runs(served, client, runs):
    """The graph the UI draws has the workflow's edges: each task run's parents are its node's dependencies."""
    flow_run_id = runs["order-report"]
    assert (await wait_for(client, flow_run_id)).state.is_completed()
    async with _ui(served) as (page, base):
        async with page.expect_response(lambda r: r.url.endswith(f"/flow_runs/{flow_run_id}/graph-v2")) as answer:
            await page.goto(f"{base}/runs/flow-run/{flow_run_id}")
        graph_data = await (await answer.value).json()
        labels = {node_id: node["label"] for node_id, node in graph_data["nodes"]}
        edges = {node["label"]: {labels[parent["id"]] for parent in node["parents"]} for _, node in graph_data["nodes"]}
        assert edges == {"orders": set(), "paid": {"orders"}, "totals": {"paid"}, "save-totals": {"totals"},
                         "report": {"totals"}, "save-report": {"report"}}
        await page.get_by_text("Completed", exact=True).first.wait_for()
        await page.get_by_role("tab", name="Task Runs").click()
        for task in ("orders", "paid", "totals", "save-totals", "report", "save-report"):
            await page.get_by_role("link", name=task, exact=True).first.wait_for()
        graph = page.locator("canvas").first
        await graph.wait_for()
        await _settled(graph)
        _save("flow-run.png", await page.screenshot(animations="disabled"))


async def test_a_paused_checkpoint_is_approved_in_the_resume_form(served, client, runs):
    flow_run_id = runs["approval-gate"]
    await wait_for(client, flow_run_id, lambda s: s.is_paused())
    async with _ui(served) as (page, base):
        await page.goto(f"{base}/runs/flow-run/{flow_run_id}")
        await page.get_by_text("Paused", exact=True).first.wait_for()
        await page.get_by_role("button", name="Open menu").first.click()
        await page.get_by_role("menuitem", name="Resume").click()
        form = page.get_by_role("dialog")
        await form.get_by_text("Resume Flow Run").wait_for()
        for text in ("Checkpoint", "Publish '4 orders ready'?", "Action (Optional)", "approve", "Comment (Optional)"):
            await form.get_by_text(text, exact=False).first.wait_for()
        await form.get_by_text("str", exact=True).click()  # the comment is a string or None
        await form.locator("textarea, input[type=text]").last.fill("Looks good")
        screenshot = await page.screenshot(animations="disabled")
        await form.get_by_role("button", name="Resume", exact=True).click()
        await form.wait_for(state="hidden")
    final = await wait_for(client, flow_run_id)
    assert final.state.is_completed(), final.state
    for _ in range(40):  # logs reach the API a moment after they are written
        logs = await logs_of(client, flow_run_id)
        if any("checkpoint review:" in m for m in logs):
            break
        await asyncio.sleep(0.25)
    assert any("checkpoint review: approve by Prefect UI: Looks good" in m for m in logs), logs
    _save("approval-form.png", screenshot)


async def test_the_execution_log_artifact_page(served, client, runs):
    flow_run_id = runs["order-report"]
    assert (await wait_for(client, flow_run_id)).state.is_completed()
    [artifact] = await client.read_artifacts(**_of_run(flow_run_id))
    assert artifact.key == "flowscript-log-order-report"
    async with _ui(served) as (page, base):
        await page.goto(f"{base}/artifacts/artifact/{artifact.id}")
        await page.get_by_role("heading", name="Execution Log").wait_for()
        for text in (str(flow_run_id), "Node Results", "save-report"):
            await page.get_by_text(text, exact=False).first.wait_for()
        assert await page.get_by_role("cell", name="success").count() == 6
        _save("log-artifact.png", await page.screenshot(animations="disabled"))
