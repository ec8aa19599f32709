"""The compliance console in headless Chromium (REC-1, REC-2): a reviewer searches for the disputed conversation,
opens it with its rule events, annotates it, marks it reviewed, downloads the export and opens the printable
transcript, which says "chain intact". Only the gateway runs (in a thread, on SQLite): the console needs no Rasa."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from bot import audit, conversations, handoff
from bot.agents import users
from bot.db import session_scope
from tests.browser.conftest import serve_gateway

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def console_url(sqlite_engine, sqlite_url) -> Iterator[str]:
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "cat", PASSWORD, "compliance", display_name="Cat")
        disputed = conversations.get_or_create(session, "sms", "+15555550101")
        conversations.record_message(session, disputed, direction="in", sender_role="debtor", text="not my debt")
        audit.record(session, "dispute_recorded", rule_id="DSP-1", conversation_id=disputed.id)
        calm = conversations.get_or_create(session, "web", "widget-1")
        conversations.record_message(session, calm, direction="in", sender_role="debtor", text="hello")
        # C1: a debtor of its own, waiting for a person, who typed identity answers and more.
        waiting = conversations.get_or_create(session, "web", "widget-identity")
        conversations.record_message(session, waiting, direction="in", sender_role="debtor",
                                     text="zip 96720, born 1991-09-30, mail leilani.akana@example.com")
        handoff.request(session, waiting.id, "request_human", rule_id="HO-1")
    with serve_gateway(sqlite_url) as url:
        yield url


def test_REC_2_a_reviewer_finds_reads_annotates_marks_reviewed_and_exports_in_the_browser(new_page, console_url):
    page = new_page()
    page.goto(console_url + "/agent/login")
    page.get_by_label("Username").fill("cat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Compliance review").click()
    expect(page.get_by_role("heading", name="Compliance review")).to_be_visible()
    page.get_by_label("Flag").select_option("dispute")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 conversation ")).to_be_visible()
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("table")).to_contain_text("DSP-1")
    expect(page.locator("#chain")).to_contain_text("chain intact")
    page.get_by_label("Note").fill("Validation notice checked.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator("#review-status")).to_have_text("reviewed")
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON").click()
    exported = json.loads(open(download.value.path()).read())
    assert exported["conversations"][0]["review_status"] == "reviewed"
    page.get_by_role("link", name="Printable transcript").click()
    expect(page.locator("#chain")).to_contain_text("chain intact")


def test_REC_2_the_compliance_console_is_headed_as_such_and_its_search_form_is_a_labelled_grid(new_page,
                                                                                              console_url):
    """The tester found the pages headed "Agent console" and the search as a column of boxes down the page.
    Mutation tried: the `.filters` grid rule removed from console.css -> From and To stack and the test fails."""
    page = new_page(1280, 800)
    page.goto(console_url + "/agent/login")
    page.get_by_label("Username").fill("cat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(console_url + "/compliance")
    banner = page.get_by_role("banner")
    expect(banner.get_by_role("link", name="Settle Services · Compliance review")).to_be_visible()
    expect(banner).not_to_contain_text("Agent console")
    expect(page).to_have_title("Search · Settle Services compliance review")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compliance review")
    form = page.get_by_role("search", name="Filter conversations")
    boxes = {}
    for name in ("From", "To", "Account", "Phone", "Channel", "Intent", "Agent (username)", "Outcome", "Flag",
                 "Review"):
        field = form.get_by_label(name, exact=True)
        expect(field).to_be_visible()
        expect(form.get_by_text(name, exact=True)).to_be_visible()  # the label's words are on screen
        boxes[name] = field.bounding_box()
    # Side by side at desktop width: one row holds several fields, each labelled above its box.
    assert abs(boxes["From"]["y"] - boxes["To"]["y"]) < 4 and boxes["To"]["x"] > boxes["From"]["x"] + 100
    assert abs(boxes["From"]["y"] - boxes["Phone"]["y"]) < 4
    rows = {round(b["y"]) for b in boxes.values()}
    assert len(rows) <= 3, rows
    label_box = form.get_by_text("From", exact=True).bounding_box()
    assert label_box["y"] + label_box["height"] <= boxes["From"]["y"] + 1


def test_REC_2_a_reviewer_reads_the_agent_queue_redacted(new_page, console_url):
    """C1 on the screen: through "Agent queue (read only)" a reviewer without the unredacted permission sees the
    waiting conversation masked, as in the compliance console.
    Mutation tried: reading_for giving a reviewer UNREDACTED by default -> the date of birth shows and this fails."""
    page = new_page()
    page.goto(console_url + "/agent/login")
    page.get_by_label("Username").fill("cat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(console_url + "/compliance")
    page.get_by_role("link", name="Agent queue (read only)").click()
    row = page.locator("tr[data-handoff-id]").first
    expect(row).to_contain_text("[hidden]")
    expect(row).not_to_contain_text("96720")
    row.get_by_role("link", name="Open").click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("[hidden]")
    for secret in ("96720", "1991-09-30", "leilani.akana@example.com"):
        expect(transcript).not_to_contain_text(secret)


def test_a_reversed_date_range_comes_back_as_a_400_saying_why_with_every_field_as_typed(new_page, console_url):
    """The staff tester's finding: bad search input answered 200. In the browser: To before From, an account typed,
    a flag picked; the answer is a 400, the reason is announced above the form, and every field holds what was
    entered, so nothing has to be typed again. Mutation tried: list_page passing params={} to the template ->
    the account and flag fields come back empty, this fails."""
    page = new_page()
    page.goto(console_url + "/agent/login")
    page.get_by_label("Username").fill("cat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(console_url + "/compliance")
    page.get_by_label("From").fill("2026-12-08")
    page.get_by_label("To").fill("2026-12-01")
    page.get_by_label("Account").fill("SET-100001")
    page.get_by_label("Flag").select_option("dispute")
    with page.expect_response(lambda r: r.url.startswith(console_url + "/compliance?")) as answered:
        page.get_by_role("button", name="Search").click()
    assert answered.value.status == 400
    expect(page.get_by_role("alert")).to_have_text(
        "To is before From: nothing can match. Swap them, or leave one empty.")
    expect(page.get_by_label("From")).to_have_value("2026-12-08")
    expect(page.get_by_label("To")).to_have_value("2026-12-01")
    expect(page.get_by_label("To")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Account")).to_have_value("SET-100001")
    expect(page.get_by_label("Flag")).to_have_value("dispute")


def test_REC_2_a_reviewer_with_the_unredacted_permission_has_a_link_to_it_from_the_redacted_view_and_no_one_else(
        new_page, console_url, sqlite_engine):
    """The unredacted view had no way in from the redacted one: a reviewer who holds the permission had to type
    "?unredacted=1". Now Rex (who holds it) follows a link, reads the text as typed, and his reading is audited as
    an unredacted view; Cat (who does not) is shown no link. Agents and supervisors never reach this page.
    Mutations: the link shown to every reviewer (`may_read_unredacted` made True in the page's context): Cat saw it
    and this failed; the context asking the wrong thing (`signed.user.role == "supervisor"`): Rex had no link,
    failed."""
    from sqlalchemy import select

    from bot.db.models import AuditEvent, Conversation

    with session_scope(sqlite_engine) as session:
        rex = users.create_user(session, "rex", PASSWORD, "compliance", display_name="Rex")
        rex.can_view_unredacted = True
        conversation_id = session.scalar(select(Conversation.id).where(Conversation.external_id == "widget-identity"))

    def log_in(name: str):
        page = new_page()
        page.goto(console_url + "/agent/login")
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{console_url}/compliance/c/{conversation_id}")
        expect(page.get_by_role("table")).to_contain_text("[hidden]")
        return page

    cat = log_in("cat")
    expect(cat.get_by_text("redacted view", exact=False)).to_be_visible()
    expect(cat.get_by_role("link", name="Read it unredacted (your reading is logged)")).to_have_count(0)

    rex_page = log_in("rex")
    rex_page.get_by_role("link", name="Read it unredacted (your reading is logged)").click()
    expect(rex_page.get_by_text("unredacted view (logged)")).to_be_visible()
    expect(rex_page.get_by_role("table")).to_contain_text("zip 96720, born 1991-09-30, mail leilani.akana@example.com")
    rex_page.get_by_role("link", name="Back to the redacted view").click()
    expect(rex_page.get_by_role("table")).not_to_contain_text("96720")
    with session_scope(sqlite_engine) as session:
        reads = [(e.kind, e.actor) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.kind.like("transcript_viewed%"), AuditEvent.actor == "compliance:rex")
            .order_by(AuditEvent.id))]
    assert reads == [("transcript_viewed", "compliance:rex"), ("transcript_viewed_unredacted", "compliance:rex"),
                     ("transcript_viewed", "compliance:rex")]


def test_REC_1_at_phone_width_a_transcript_page_fits_the_screen_head_hash_included(new_page, console_url):
    """Found exploring the reviewer's pages at 375 px: the transcript page was 588 px wide, the chain's head hash
    (64 characters in one unbroken <code>) pushing the whole page sideways, so every line had to be scrolled to read.
    The hash now wraps; the transcript table scrolls inside its own box as before.
    Mutation: `overflow-wrap: anywhere` removed from code in console.css -> the page is 588 px wide: fails."""
    page = new_page(375, 800)
    page.goto(console_url + "/agent/login")
    page.get_by_label("Username").fill("cat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(console_url + "/compliance?flag=dispute")
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.locator("#chain")).to_contain_text("chain intact")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.evaluate("document.querySelector('#chain code').getBoundingClientRect().right") <= 375
