"""The demo phone and a debtor's email opt-out page in Spanish (issue 23), in headless Chromium against the real
gateway (no Rasa: nothing here is answered by the bot). What a person sees on screen is asserted: the headings,
the text boxes by their names, and what the phone page's own script writes (it runs under the page's hashed CSP,
so its words come from an attribute, not from the script)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve_gateway

pytestmark = [pytest.mark.browser]


@pytest.fixture
def gateway_url(sqlite_engine, sqlite_url):
    with serve_gateway(sqlite_url, mode="embedded") as url:  # the demo phone exists only in the local demo
        yield url


def test_the_demo_phone_speaks_spanish_to_a_spanish_browser_and_its_script_too(gateway_url, new_page):
    """Mutation tried: the script reading its words from an inline JSON literal (the CSP hash no longer matched,
    the script was blocked and the empty thread never said "Aún no hay textos")."""
    page = new_page(locale="es-US")
    page.goto(f"{gateway_url}/phone")
    expect(page.get_by_role("heading", name="Teléfono de prueba")).to_be_visible()
    number = page.get_by_role("textbox", name="Número de teléfono")
    expect(number).to_have_attribute("placeholder", "o escriba +1…")
    number.fill("+15555550199")
    number.press("Tab")
    expect(page.get_by_text("Aún no hay textos. Salude.")).to_be_visible()
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()

    english = new_page(locale="en-US")
    english.goto(f"{gateway_url}/phone")
    expect(english.get_by_role("heading", name="Demo phone")).to_be_visible()
    english.get_by_role("textbox", name="Phone number").fill("+15555550199")
    english.get_by_role("textbox", name="Phone number").press("Tab")
    expect(english.get_by_text("No texts yet. Say hi.")).to_be_visible()


def test_a_broken_opt_out_link_reads_spanish_in_a_spanish_browser(gateway_url, new_page):
    page = new_page(locale="es-US")
    page.goto(f"{gateway_url}/email/opt-out/garbage")
    expect(page.get_by_role("heading", name="Este enlace no funciona")).to_be_visible()
    expect(page.get_by_text("escriba ALTO para no recibir más emails")).to_be_visible()
