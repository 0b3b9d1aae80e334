"""GraphiQL served by the app itself, driven in headless Chromium with no internet."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from playwright.async_api import Page, Route, async_playwright

from server.explorer import assets_installed
from tests.harness import Api
from tests.services import unavailable
from tests.test_conversations import send, start

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's background traffic would be refused by this closed network; the explorer needs none.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    if not assets_installed():
        unavailable("GraphiQL assets are not installed (make graphiql)")
    if not shutil.which("chromium"):
        unavailable("Debian's chromium package is not installed (make browser installs it when it can)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context()
        # Nothing but the app itself may be fetched: a CDN request would fail the page.
        external: list[str] = []

        async def only_local(route: Route) -> None:
            if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1")):
                await route.continue_()
            else:
                external.append(route.request.url)
                await route.abort()

        await context.route("**/*", only_local)
        yield await context.new_page()
        await browser.close()
        assert external == [], f"the explorer fetched from outside: {external}"


async def test_graphiql_runs_a_query_offline(api: Api, page: Page, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("one browser run is enough: the page is the same on both backends")
    alice = await api.sign_up("alice_explorer")
    query = "{ viewer { username } }"
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # As `make demo` prints it: the token in the fragment, which the browser never sends.
    await page.goto(f"{api.base_url}/graphql?{urlencode({'q': query})}#{urlencode({'token': alice.token})}")
    await page.click(".graphiql-execute-button", timeout=30_000)
    result = page.locator(".result-window")
    await result.get_by_text("alice_explorer").wait_for(timeout=30_000)
    assert requested and not [url for url in requested if alice.token in url]
    assert alice.token not in page.url  # nor is it left in the address bar
    assert await page.locator("link[rel=icon]").count() == 1


async def test_graphiql_streams_a_subscription_offline(api: Api, page: Page, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("one browser run is enough: the page is the same on both backends")
    alice, bob = await api.sign_up("alice_live"), await api.sign_up("bob_live")
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "sent before the page opened")
    # Replaying from seq 0 shows the first message once the subscription is live on the server,
    # so the message sent afterwards can only arrive as a live event.
    query = (
        f'subscription {{ conversationEvents(conversationId: "{cid}", afterSeq: 0) {{ '
        "... on MessageAdded { message { seq body sender { username } } } } }"
    )
    await page.goto(f"{api.base_url}/graphql?{urlencode({'q': query})}#{urlencode({'token': bob.token})}")
    await page.click(".graphiql-execute-button", timeout=30_000)
    result = page.locator(".result-window")
    await result.get_by_text("sent before the page opened").wait_for(timeout=30_000)
    await send(api, alice, cid, "live from the API")
    await result.get_by_text("live from the API").wait_for(timeout=30_000)
