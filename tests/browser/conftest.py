"""Browser fixtures: Python Playwright driving Debian's chromium (scripts/browser.sh installs it; Playwright's own
browser download is not used), and a way to restart just the gateway of the running stack."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

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
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium):
    """Pages in fresh browser contexts (own localStorage, i.e. a new visitor), closed after the test."""
    contexts = []

    def make(width: int = 1280, height: int = 800):
        context = chromium.new_context(viewport={"width": width, "height": height})
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
