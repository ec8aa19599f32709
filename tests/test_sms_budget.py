"""What a debtor's phone gets: every wording key fits bot/sms.REPLY_SEGMENTS as a text, Spanish drops the accents
GSM-7 lacks only when that saves a segment, and a longer text goes as a short form with a link that keeps the
DISC-2 notice, the OPT-1 line and every choice. The table behind the budget: `python -m bench.sms_segments`."""

from __future__ import annotations

import pytest

from bench import sms_segments
from bot import sms, wording
from bot.compliance import tone

LINK = sms.TextLinks("https://settle.example.com", "test-link-secret").url(4321)

# Words of web pages, emails and Stripe's page: never sent as a text, so no SMS budget (they are still measured).
WEB_ONLY = ("page_", "notice_page_", "text_page_", "pay_page_", "optout_", "check_", "subject_", "email_",
            "esign_web_", "autopay_field_label", "autopay_option_", "autopay_prefix", "checkout_item", "copy_cover")
# Documents: longer than a text by nature (PLAN-2's authorisation, a copy for the debtor's records). Over SMS they go
# as as_sent()'s short form with the link; the web chat and email get them whole.
DOCUMENTS = ("authorisation", "autopay_on")


def _texts() -> list[tuple[str, str]]:
    return [(language, key) for language in wording.LANGUAGES for key in wording.CATALOGUES[language]
            if not key.startswith(WEB_ONLY)]


@pytest.mark.parametrize(("language", "key"), _texts())
def test_every_wording_key_fits_three_segments_as_a_text(language, key):
    """VOICE.md "SMS-sized": each text, with realistic long values, fits REPLY_SEGMENTS (3 segments, 459 GSM-7
    characters); a document fits it in its short form with the link to the whole.
    Mutation: a new English key of 480 characters ("reminder_long": "x " * 240) -> this test fails for it."""
    assert sms.REPLY_SEGMENTS == 3
    text = sms_segments.rendered(key, language)
    if key in DOCUMENTS:
        sent = sms.as_sent(text, link=LINK, language=language)
        assert sms.segment_count(sent) <= sms.REPLY_SEGMENTS, sent
        assert (LINK in sent) == (sms.segment_count(text) > sms.REPLY_SEGMENTS)
        return
    assert sms.segment_count(text) <= sms.REPLY_SEGMENTS, f"{key} ({language}) is {len(text)} characters: {text}"


def test_spanish_accents_are_dropped_only_when_that_saves_segments():
    """UCS-2 halves a segment and Twilio's smart encoding keeps á, í, ó, ú: the E-SIGN question in Spanish was 5
    segments. Sent as GSM-7 it is 2; a text that fits one segment either way keeps its accents; the stored words
    keep them always. Mutation: sms_text() without the _ACCENTS swap -> the first assertion fails (ucs2, 5)."""
    question = wording.say("esign_question", wording.SPANISH, address="j***@example.com")
    sent = sms.sms_text(question)
    assert (sms.encoding(sent), sms.segment_count(sent)) == ("gsm7", 2)
    assert "aviso de validacion" in sent and "paginas web" in sent and sent.startswith("¿Le podemos")
    # the accented words, as stored and shown in the web chat
    assert sms.segment_count(question) == 5 and "aviso de validación" in question
    assert sms.sms_text("Responda SÍ para seguir.") == "Responda SÍ para seguir."


def test_DISC_2_OPT_1_a_long_text_keeps_its_notice_first_and_its_opt_out_line_last():
    """A receipt with the autopay authorisation, sent as a contact (the gate's DISC-2 notice first, OPT-1 last),
    is 6 segments whole; as sent it is 3, opens with the notice, ends with the opt-out line, and has the link.
    Mutation: as_sent() leaving out `opt_out` in assembled() -> the endswith assertion fails."""
    receipt = sms_segments.composed("en")["receipt with autopay"]
    whole = tone.with_opt_out_line(tone.with_debt_collector_notice(receipt, "en"), "en")
    sent = sms.as_sent(whole, link=LINK, language="en")
    assert sms.segment_count(sms.sms_text(whole)) > 5
    assert sms.segment_count(sent) <= sms.REPLY_SEGMENTS
    assert sent.startswith("This message is from a debt collector. Thank you. We received your payment of $240.00")
    assert sent.endswith(f"Read all of it here: {LINK}\nReply STOP to opt out.")
    assert "I authorise" not in sent  # the authorisation is behind the link, whole


def test_a_long_choice_over_sms_lists_every_choice_and_ends_with_the_ask():
    """The plan options in Spanish were 608 characters: as sent, every option is still a numbered choice (its
    button's short title), the ask ends the text and the link leads to the details.
    Mutation: as_sent() without the buttons branch -> option 3 is cut and the ask is lost, fails."""
    text = sms_segments.composed("es")["plan options"]
    titles = ["12 pagos mensuales de entre $90.41 y $240.00", "43 pagos semanales de $29.00", "Liquidar por $987.65"]
    buttons = [{"title": f"{n}. {title}", "payload": f"/choose_option{n}"} for n, title in enumerate(titles, 1)]
    sent = sms.as_sent(text, buttons, link=LINK, language="es")
    assert sms.segment_count(sms.sms_text(text, buttons)) == 4 and sms.segment_count(sent) <= sms.REPLY_SEGMENTS
    assert sent == ("Estas son sus opciones:\n1. 12 pagos mensuales de entre $90.41 y $240.00\n"
                    "2. 43 pagos semanales de $29.00\n3. Liquidar por $987.65\n"
                    f"Léalo completo aqui: {LINK}\n"
                    "Responda 1, 2 o 3 para elegir, o digame otra cantidad. Escriba 'olvidelo' para parar.")


def test_a_text_that_fits_goes_whole_and_unchanged():
    """Mutation: as_sent() shortening whenever a link is given -> fails."""
    text = wording.say("balance_next", "en")
    assert sms.as_sent(text, link=LINK, language="en") == text
