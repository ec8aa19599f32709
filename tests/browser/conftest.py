"""Browser fixtures: Python Playwright driving Debian's chromium (scripts/browser.sh installs it; Playwright's own
browser download is not used), and a way to restart just the gateway of the running stack."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed: run `bash scripts/browser.sh` (make test does)")
    from playwright.sync_api import expect

    # A bot's answer takes a few seconds on 2 cores shared by two test processes; expect()'s 5 s was too tight.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium):
    """Pages in fresh browser contexts (own localStorage, i.e. a new visitor), closed after the test."""
    contexts = []

    def make(width: int = 1280, height: int = 800, locale: str | None = None):
        # locale: the browser's language (navigator.language and Accept-Language), e.g. "es-US"
        context = chromium.new_context(viewport={"width": width, "height": height},
                                       **({"locale": locale} if locale else {}))
        context.set_default_timeout(30_000)  # a reply can take a few seconds on 2 cores
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def stop_gateway(stack) -> None:
    stack.stop("gateway")


def start_gateway(stack, timeout: float = 120.0) -> None:
    """Start the gateway again exactly as Stack.start does."""
    argv, url = stack._commands()["gateway"]
    stack._spawn("gateway", argv)
    stack._wait(url, "gateway", timeout)


@contextmanager
def serve_gateway(database_url: str, **settings: object) -> Iterator[str]:
    """Only the gateway, in a thread, on this database: the consoles need no Rasa (nothing listens at its URL).
    `settings`: more Settings fields (an SMTP_URL for the operations console's campaigns, a real rasa_url)."""
    import uvicorn

    from bot.config import Settings
    from bot.gateway.app import create_app
    from tests.conftest import free_port

    port = free_port()
    config = Settings(**{"database_url": database_url, "rasa_url": f"http://127.0.0.1:{free_port()}",
                         "widget_secret": "t", **settings})
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=1)
        # A page still open holds the console's event stream, which a graceful shutdown waits on for good.
        server.force_exit = True
        thread.join(timeout=10)
