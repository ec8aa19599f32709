"""ID-2, LANG-1: the date-of-birth answer is read in the ways people type it (bot/identity.parse_dob). F4, F20:
"22/03/1976", "14/03/1979", "March 14th '79", "march fourteenth 1979" and "031479" were refused, and a Spanish
debtor's "4455" and "SET-100015" were refused as dates in a loop."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.verification import ValidateVerifyForm
from bot import wording
from bot.identity import parse_dob

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("22/03/1976", None, date(1976, 3, 22)),  # day first: 22 cannot be a month
    ("22/03/1976", "es", date(1976, 3, 22)),
    ("21/07/1990", None, date(1990, 7, 21)),
    ("14/03/1979", None, date(1979, 3, 14)),
    ("March 14th '79", None, date(1979, 3, 14)),
    ("march fourteenth 1979", None, date(1979, 3, 14)),
    ("march twenty-first 1980", None, date(1980, 3, 21)),
    ("031479", None, date(1979, 3, 14)),  # MMDDYY
    ("140379", "es", date(1979, 3, 14)),  # DDMMYY in Spanish
    ("03/04/1979", None, date(1979, 3, 4)),  # ambiguous: month first in English
    ("03/04/1979", "es", date(1979, 4, 3)),  # ambiguous: day first in Spanish, as its prompt asks
    ("03/22/1976", "es", date(1976, 3, 22)),  # only month first is possible
    ("3/14/79", None, date(1979, 3, 14)),
    ("1979/03/14", None, date(1979, 3, 14)),
    ("14 de marzo de 1979", "es", date(1979, 3, 14)),
])
def test_LANG_1_common_date_of_birth_formats_are_read(text, language, expected):
    """Mutation tried: `orders` in _plausible always month first (day_first ignored) -> "03/04/1979" in Spanish
    read as March 4; and the swap dropped (only the first order) -> "22/03/1976" refused."""
    assert parse_dob(text, TODAY, language) == expected


@pytest.mark.parametrize("text", ["4455", "SET-100015", "90210", "13/13/1979", "hello", "12/31/2030", "123456"])
def test_ID_2_what_is_not_a_birth_date_is_not_read_as_one(text):
    assert parse_dob(text, TODAY) is None


@given(born=st.dates(date(1920, 1, 1), date(2008, 12, 31)), language=st.sampled_from([None, "en", "es"]),
       separator=st.sampled_from(["/", "-", "."]))
def test_LANG_1_a_date_written_in_the_conversations_order_reads_back(born, language, separator):
    """Property: any birth date written numerically in the order the conversation's language uses (month first in
    English, day first in Spanish) is read back exactly, and so is one whose day cannot be a month, in either."""
    day_first = language == "es"
    first, second = (born.day, born.month) if day_first else (born.month, born.day)
    assert parse_dob(f"{first:02d}{separator}{second:02d}{separator}{born.year}", TODAY, language) == born
    if born.day > 12:  # unambiguous either way round
        assert parse_dob(f"{born.day}/{born.month}/{born.year}", TODAY, language) == born
        assert parse_dob(f"{born.month}/{born.day}/{born.year}", TODAY, language) == born


def _tracker(text: str, language: str) -> Tracker:
    return Tracker("web-tomas", {"requested_slot": "id_dob", "language": language},
                   {"text": text, "intent": {"name": "inform"}}, [], False, None, {"name": "verify_form"}, text)


@pytest.mark.parametrize(("text", "slot", "value"), [("4455", "id_secret", "4455"),
                                                     ("SET-100015", "id_locator", "SET-100015")])
def test_ID_2_a_last_4_or_reference_typed_for_the_date_is_kept_for_its_own_question(text, slot, value):
    """F4: Tomás typed "4455", then "SET-100015", where the date was asked: each is kept for its own question and
    thanked for in Spanish (the form asks the date again), never "I didn't catch that date".

    Mutation tried: the `_kept_for_later` call removed from validate_id_dob -> {"id_dob": None} only."""
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateVerifyForm().validate_id_dob(text, dispatcher, _tracker(text, "es"), {}))
    assert result == {"id_dob": None, slot: value}
    [said] = [m["text"] for m in dispatcher.messages]
    # In Spanish, and only the thanks: the form asks for the date itself next (it was asked twice before;
    # tests/integration/test_form_answers.py hears it once).
    assert said == wording.say("verify_kept", "es") and "entend" not in said


def test_PCI_2_the_start_of_a_card_typed_for_the_date_keeps_no_digits_for_a_later_question():
    """The merged suite found "4111" kept in the id_secret slot (Rasa's tracker store) after "my card is 4111 1111"
    answered the date question: the first four digits were taken for a last four. Only digits that are the whole
    answer are kept (PCI-2: the next message may finish a card number). Mutation tried: the digit-count guard in
    _kept_for_later removed; this failed."""
    dispatcher = CollectingDispatcher()
    text = "my card is 4111 1111"
    result = asyncio.run(ValidateVerifyForm().validate_id_dob(text, dispatcher, _tracker(text, "en"), {}))
    assert "id_secret" not in result and "4111" not in str(result)
