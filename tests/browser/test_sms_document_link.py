"""What a person sees of a long text on the demo phone, in headless Chromium against the real gateway (no Rasa): a
plan's terms arrive as one short text whose link is tappable, and the page behind it shows the whole agreement."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve_gateway
from tests.test_sms_documents import PHONE, TERMS, _post_terms

pytestmark = [pytest.mark.browser]


def test_PLAN_1_the_phone_shows_the_short_terms_and_its_link_opens_the_whole_agreement(sqlite_engine, sqlite_url,
                                                                                     new_page):
    """Mutation: phone.html setting the bubble's textContent for the bot's texts too (no <a>) -> no link to click,
    fails. Mutation: demo_phone.thread() rendering with sms_text() -> the sixth payment shows in the bubble, fails."""
    _post_terms(sqlite_engine, "sms", PHONE)
    with serve_gateway(sqlite_url, mode="embedded", email_link_secret="test-link-secret") as url:
        page = new_page()
        page.goto(f"{url}/phone")
        number = page.get_by_role("textbox", name="Phone number")
        number.fill(PHONE)
        number.press("Tab")
        bubble = page.locator(".msg.out")
        expect(bubble).to_contain_text(TERMS.splitlines()[0])
        expect(bubble).not_to_contain_text("6. ")  # the rest of the schedule is behind the link
        link = bubble.get_by_role("link")
        href = link.get_attribute("href")
        assert "/texts/" in href and bubble.inner_text().count("Read all of it here: ") == 1
        whole = new_page()
        whole.goto(url + urlparse(href).path)  # the demo's GATEWAY_URL is :8000; this gateway listens elsewhere
        expect(whole.get_by_role("heading", name="Our message to you")).to_be_visible()
        for line in TERMS.splitlines():
            expect(whole.get_by_text(line, exact=True)).to_be_visible()
