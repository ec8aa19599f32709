"""PCI-2: card numbers, their expiry and CVV, and SSNs are redacted before storage, logs or the NLU.
PCI-3: a Luhn scan of what is stored finds 0 hits."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.compliance.redaction import (
    MAX_CARRY_DIGITS,
    REDACTED,
    Redaction,
    contains_card_number,
    is_calendar_date,
    luhn_valid,
    redact,
    redact_trailing_digits,
)

# Public test numbers (Stripe, PayPal and network test lists), checked below with an independent Luhn.
TEST_CARDS = {
    "visa": "4242424242424242",
    "visa_declined": "4000000000000002",
    "visa_classic": "4111111111111111",
    "visa_13": "4222222222222",
    "mastercard": "5555555555554444",
    "amex_15": "378282246310005",
    "discover": "6011111111111117",
    "discover_2": "6011000990139424",
    "diners": "3056930009020004",
    "diners_14": "36227206271667",
    "jcb": "3566002020360505",
    "unionpay_19": "6205500000000000004",
}

FORMATS = {
    "contiguous": lambda d: d,
    "groups_of_4_spaces": lambda d: " ".join(d[i:i + 4] for i in range(0, len(d), 4)),
    "groups_of_4_dashes": lambda d: "-".join(d[i:i + 4] for i in range(0, len(d), 4)),
    "groups_of_4_dots": lambda d: ".".join(d[i:i + 4] for i in range(0, len(d), 4)),
    "mixed_separators": lambda d: f"{d[:4]}-{d[4:8]} {d[8:12]}.{d[12:]}",
    "two_halves": lambda d: f"{d[:8]} {d[8:]}",
    "every_digit_spaced": lambda d: " ".join(d),
    "irregular_groups": lambda d: f"{d[:3]} {d[3:10]} - {d[10:]}",
    "slashes": lambda d: f"{d[:6]}/{d[6:]}",
    "non_breaking_spaces": lambda d: "\u00a0".join(d[i:i + 4] for i in range(0, len(d), 4)),
    "en_dashes": lambda d: "\u2013".join(d[i:i + 4] for i in range(0, len(d), 4)),
    "zero_width_spaces": lambda d: "\u200b".join(d[i:i + 4] for i in range(0, len(d), 4)),
    "fullwidth_digits": lambda d: " ".join(d).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "newline_inside": lambda d: f"{d[:8]}\n{d[8:]}",
}


def _independent_luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def _check_digit(body: str) -> str:
    return next(c for c in "0123456789" if _independent_luhn_ok(body + c))


def _card_digits_left(text: str, card: str) -> bool:
    """Whether the card number survives in ``text``, as typed or as a Luhn hit."""
    return card in text or contains_card_number(text)


def test_pci2_worked_example_card_expiry_and_cvv_are_all_redacted():
    result = redact("4111 1111 1111 1111 exp 12/27 123")
    assert result.text == "[REDACTED] exp [REDACTED] [REDACTED]"
    assert result.kinds == ("card", "expiry", "cvv")
    assert not any(ch.isdigit() for ch in result.text)


@pytest.mark.parametrize("card", TEST_CARDS.values(), ids=TEST_CARDS.keys())
def test_test_card_numbers_are_luhn_valid(card):
    assert _independent_luhn_ok(card) and luhn_valid(card)
    assert 13 <= len(card) <= 19


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
@pytest.mark.parametrize("card", TEST_CARDS.values(), ids=TEST_CARDS.keys())
def test_pci2_common_test_cards_are_redacted_in_any_format(card, fmt):
    typed = fmt(card)
    result = redact(f"Sure, my card is {typed}, can I pay today?")
    assert result.text == f"Sure, my card is {REDACTED}, can I pay today?"
    assert result.kinds == ("card",)
    assert not _card_digits_left(result.text, card)


@pytest.mark.parametrize("message, expected", [
    ("ref4111111111111111x", f"ref{REDACTED}x"),
    ("order 12345 4111 1111 1111 1111 thanks", f"order {REDACTED} thanks"),
    ("9994242424242424242999", REDACTED),
    ("card:5555555555554444.", f"card:{REDACTED}."),
])
def test_pci2_card_embedded_in_words_or_other_digits_is_redacted(message, expected):
    assert redact(message).text == expected


@pytest.mark.parametrize("message, expected", [
    ("4242 4242 4242 4242 exp 12/2027 cvv 123", f"{REDACTED} exp {REDACTED} cvv {REDACTED}"),
    ("4242424242424242 expires 12-27 code 1234", f"{REDACTED} expires {REDACTED} code {REDACTED}"),
    ("4242424242424242 exp 1227", f"{REDACTED} exp {REDACTED}"),
    ("card 4242424242424242, expiration date 12/2027, security code 123 thanks",
     f"card {REDACTED}, expiration date {REDACTED}, security code {REDACTED} thanks"),
    ("4242424242424242, 12 27, 123", f"{REDACTED}, {REDACTED}, {REDACTED}"),
    ("cvv 123 exp 12/27 card number 4242424242424242", f"cvv {REDACTED} exp {REDACTED} card number {REDACTED}"),
    ("123 is the code on the back of 4242424242424242", f"{REDACTED} is the code on the back of {REDACTED}"),
    ("4242424242424242 12/27 123", REDACTED),  # one digit run with the card: all of it goes
])
def test_pci2_expiry_and_cvv_beside_a_card_are_redacted(message, expected):
    result = redact(message)
    assert result.text == expected
    assert "card" in result.kinds


def test_pci2_digits_far_from_a_card_are_kept():
    message = "4242424242424242 and separately, about my payment plan, I can do 150 a month"
    assert redact(message).text == f"{REDACTED} and separately, about my payment plan, I can do 150 a month"


@pytest.mark.parametrize("message, expected, kind", [
    ("the cvv is 123", f"the cvv is {REDACTED}", "cvv"),
    ("CVC: 1234", f"CVC: {REDACTED}", "cvv"),
    ("security code 987", f"security code {REDACTED}", "cvv"),
    ("exp 12/27", f"exp {REDACTED}", "expiry"),
    ("Expiry date: 01/2029", f"Expiry date: {REDACTED}", "expiry"),
    ("valid thru 0330", f"valid thru {REDACTED}", "expiry"),
])
def test_pci2_labelled_cvv_or_expiry_is_redacted_without_a_card(message, expected, kind):
    """The card may have come in the previous message, so a named CVV or expiry goes on its own."""
    result = redact(message)
    assert result.text == expected
    assert result.kinds == (kind,)


@pytest.mark.parametrize("message", [
    "call me on +1 555 555 0101",
    "or (555) 555-0101",
    "I was born 03/14/1979",
    "I can pay $1,234.56 on 2024-07-01",
    "my account is SET-100001",
    "ZIP 90210-1234",
    "the card ending 1234 was declined",
    "last four of my social is 6789",
    "invoice 123456789",  # a bare 9-digit number: could be a ZIP+4, a routing number or a reference
    "routing 021000021",
    "the offer expires 12/31/2024",
    "I paid 200, 150, 300, 250, 400 and 350",
    "order #8842 for 3 items, $45",
])
def test_pci2_numbers_that_are_not_card_data_are_left_alone(message):
    result = redact(message)
    assert result == Redaction(message, (), False, result.carry)


@pytest.mark.parametrize("message, expected", [
    ("my ssn is 123-45-6789", f"my ssn is {REDACTED}"),
    ("123 45 6789", REDACTED),
    ("SSN: 123456789", f"SSN: {REDACTED}"),
    ("my social security number is 078051120", f"my social security number is {REDACTED}"),
    ("123456789 is my social", f"{REDACTED} is my social"),
    ("SS# 123 456 789", f"SS# {REDACTED}"),
    ("ITIN 912-70-1234", f"ITIN {REDACTED}"),
])
def test_pci2_full_ssns_are_redacted(message, expected):
    result = redact(message)
    assert result.text == expected
    assert result.kinds == ("ssn",)


def test_pci2_ssn_keyword_far_from_a_nine_digit_number_does_not_redact_it():
    message = "I don't want to give my SSN over chat. My parcel tracking is 123456789"
    assert redact(message).text == message


@pytest.mark.parametrize("card", ["4111111111111111", "378282246310005", "6205500000000000004"])
def test_pci2_card_split_across_two_messages_is_redacted_in_both(card):
    typed = FORMATS["groups_of_4_spaces"](card)
    for cut in range(1, len(typed)):
        if not typed[cut - 1].isdigit():
            continue
        first = redact(f"my card is {typed[:cut]}")
        second = redact(f"{typed[cut:]} exp 12/27 thanks", carry=first.carry)
        stored_first = redact_trailing_digits(first.text) if second.redact_previous_tail else first.text
        assert stored_first == f"my card is {REDACTED}"
        assert not _card_digits_left(stored_first + second.text, card)
        if first.kinds == ("card",):
            # Documented limit: the first fragment held a Luhn-valid window itself (e.g. the first 15 digits
            # of 6205500000000000004), so it went on its own and the few digits after it are kept.
            assert len(typed[cut:].replace(" ", "")) < 13
            continue
        assert second.redact_previous_tail, cut
        assert second.text.lstrip() == f"{REDACTED} exp {REDACTED} thanks"
        assert "card" in second.kinds


def test_pci2_split_does_not_flag_unrelated_numbers_in_consecutive_messages():
    first = redact("my number is 555 555 0101")
    assert first.carry == "5555550101"
    second = redact("50 is all I can pay", carry=first.carry)
    assert second == Redaction("50 is all I can pay", (), False, "")


def test_pci2_split_needs_the_second_message_to_begin_with_the_digits():
    first = redact("card 4111 1111")
    second = redact("thanks, 1111 1111 is the rest", carry=first.carry)
    assert not second.redact_previous_tail


def test_carry_is_the_trailing_digits_only_and_never_a_card_number():
    assert redact("my card is 4111 1111 -").carry == "41111111"
    assert redact("4111 1111 and then").carry == ""
    assert redact("4111 1111 1111 1111").carry == ""  # the run was redacted, nothing left to carry
    long_tail = redact("ref " + "1 " * 30)
    assert len(long_tail.carry) <= MAX_CARRY_DIGITS
    assert not contains_card_number(long_tail.carry)


@pytest.mark.xfail(strict=True, reason="documented limit: only the join of two consecutive messages is checked")
def test_pci2_card_split_across_three_messages_is_not_covered():
    first = redact("4111 1111")
    second = redact("1111", carry=first.carry)
    third = redact("1111", carry=second.carry)
    assert third.redact_previous_tail


def test_redact_trailing_digits_keeps_everything_but_the_last_run():
    assert redact_trailing_digits("ref 12 and card 4111 1111 ") == f"ref 12 and card {REDACTED} "
    assert redact_trailing_digits("no digits at the end") == "no digits at the end"
    assert redact_trailing_digits("12 then words") == "12 then words"


def test_luhn_valid():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("")
    assert not luhn_valid("4111 1111 1111 1111")  # digits only: separators are redact()'s job


def test_pci3_luhn_scan_of_stored_messages_finds_no_hits():
    inbound = ["hi", "my card is 4242-4242-4242-4242 exp 12/27 cvv 123", "or 5555 5555", "5555 4444 then",
               "ssn 123-45-6789", "pay $50 friday"]
    stored: list[str] = []
    carry = ""
    for message in inbound:
        result = redact(message, carry)
        if result.redact_previous_tail:
            stored[-1] = redact_trailing_digits(stored[-1])
        stored.append(result.text)
        carry = result.carry
    assert not any(contains_card_number(text) for text in stored)
    assert not contains_card_number("\n".join(stored))
    assert stored[2:4] == [f"or {REDACTED}", f"{REDACTED} then"]


_SEPARATORS = [" ", "-", ".", "/", "_", "\t", "\n", "\u00a0", "\u2013", "\u200b"]


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid number that starts like a real card network's (2-6: Mastercard, Amex, Visa, Discover...)."""
    length = draw(st.integers(13, 19))
    first = draw(st.sampled_from("23456"))
    body = first + draw(st.text(alphabet="0123456789", min_size=length - 2, max_size=length - 2))
    return body + _check_digit(body)


@st.composite
def typed_cards(draw: st.DrawFn, separators: tuple[str, ...] = tuple(_SEPARATORS)) -> tuple[str, str]:
    """A Luhn-valid number and the way a debtor typed it: up to 4 separator characters between any digits."""
    card = draw(card_numbers())
    seps = draw(st.lists(st.text(alphabet=separators, max_size=4), min_size=len(card) - 1,
                         max_size=len(card) - 1))
    return card, card[0] + "".join(s + d for s, d in zip(seps, card[1:], strict=True))


texts = st.one_of(st.text(max_size=120), st.text(alphabet="0123456789 -./abc\n$:", max_size=60))


@settings(deadline=None)
@given(typed=typed_cards(), prefix=texts, suffix=texts)
def test_pci2_property_any_card_inserted_anywhere_is_never_left(typed, prefix, suffix):
    card, formatted = typed
    result = redact(prefix + formatted + suffix)
    assert not _card_digits_left(result.text, card)
    assert formatted not in result.text
    assert "card" in result.kinds


def _opening_run(text: str) -> str:
    """The digits and separators a message opens with (after leading separators), as the redactor reads them."""
    sep = r"[\s\-\u2010-\u2015\u2212./_\u00ad\u200b-\u200d\u2060\ufeff]"
    match = re.match(rf"{sep}*(\d(?:{sep}{{0,4}}\d)*)", text)
    return match.group(1) if match else ""


@settings(deadline=None)
@given(typed=typed_cards(separators=tuple(s for s in _SEPARATORS if s != "/")), prefix=texts, suffix=texts,
       data=st.data())
def test_pci2_property_card_split_across_two_messages_is_never_left(typed, prefix, suffix, data):
    """Two documented limits: a first part glued to letters ("ref4111") is read as the end of a reference, and a
    second part that opens with a calendar date ("11.11.25") as a date, so neither joins across messages."""
    card, formatted = typed
    digit_ends = [i + 1 for i, ch in enumerate(formatted[:-1]) if ch.isdigit()]
    cut = data.draw(st.sampled_from(digit_ends))
    second_text = formatted[cut:] + suffix
    assume(not is_calendar_date(_opening_run(second_text)))
    first = redact(prefix + " " + formatted[:cut])
    second = redact(second_text, carry=first.carry)
    stored_first = redact_trailing_digits(first.text) if second.redact_previous_tail else first.text
    assert not contains_card_number(stored_first + second.text)
    assert not contains_card_number(stored_first + " " + second.text)
    assert card not in stored_first + second.text


@settings(deadline=None)
@given(text=st.text(), carry=st.text(max_size=30))
def test_pci2_property_redact_never_raises_and_leaves_no_card(text, carry):
    result = redact(text, carry)
    assert isinstance(result.text, str)
    assert not contains_card_number(result.text)
    assert result.carry.isascii() and (result.carry == "" or result.carry.isdigit())
    assert len(result.carry) <= MAX_CARRY_DIGITS


@pytest.mark.parametrize("message", [
    "4" * 5000,
    " ".join(["1234"] * 1000),
    ("exp" + " " * 200 + "1") * 24,
    "cvv " * 1250,
    "ssn 123456789 " * 350,
    "4111 1111 1111 1111 exp 12/27 123 " * 140,
    ("1" + "-" * 4) * 1000,
])
def test_pci2_long_and_pathological_messages_finish(message):
    """No timing assertion (flaky); the algorithm is linear: ~5 ms for 5,000 characters when measured."""
    assert not contains_card_number(redact(message).text)


@pytest.mark.parametrize("previous, message", [
    ("SET-100002", "02/02/1970"),  # an account reference, then a date of birth
    ("my account is SET-100001", "03/14/1979"),
    ("03/14/1979", "90210"),
    ("dob 11/02/1985", "5678"),
    ("1985-11-02", "90210"),
])
def test_pci2_identity_answers_in_a_row_are_never_taken_for_a_card(previous, message):
    """Verification answers typed one after another are not a card split over two messages."""
    first = redact(previous)
    second = redact(message, carry=first.carry)
    assert (first.text, second.text, second.redact_previous_tail) == (previous, message, False)


def test_pci2_a_card_finished_by_something_date_shaped_but_no_date_is_joined():
    """Found by the property test above: "0000.8/00" has a date's shape but no month 0 or day 0 exists."""
    first = redact(" 20000000")
    second = redact("0000.8/00", carry=first.carry)
    assert second.redact_previous_tail and "card" in second.kinds
    assert not contains_card_number(redact_trailing_digits(first.text) + second.text)


@pytest.mark.parametrize("run, is_date", [
    ("02/02/1970", True), ("12/31/24", True), ("31.12.2024", True), ("1985-11-02", True), ("2024-12-31", True),
    ("0000.8/00", False), ("13/13/2024", False), ("00/12/2024", False), ("12/32/2024", False),
    ("1850-01-01", False), ("2024-13-01", False), ("123/12/24", False), ("12/12/124", False), ("4111", False),
])
def test_pci2_only_a_calendar_date_is_exempt_from_the_split_card_join(run, is_date):
    assert is_calendar_date(run) is is_date


def test_pci2_a_birth_date_after_a_number_is_not_taken_for_the_end_of_a_card():
    """The digits of this phone number and this date together hold a Luhn-valid window across the join (the same
    digits without the date's slashes are joined as a card); the date of birth is an answer, not a card's end."""
    first = redact("call me on 555 555 0100")
    assert redact("02021970", carry=first.carry).redact_previous_tail
    second = redact("02/02/1970", carry=first.carry)
    assert (second.text, second.redact_previous_tail) == ("02/02/1970", False)


@pytest.mark.parametrize("text", ["03/14/1979 90210", "dob 12/25/1985 zip 90210", "1985-11-02 90210 5678"])
def test_pci2_a_birth_date_beside_a_zip_is_not_a_card(text):
    assert redact(text).text == text


@pytest.mark.parametrize("previous, message", [
    ("I filed for bankruptcy, case number 24-12345", "24-12345"),
    ("I filed for bankruptcy, case number 24-12345", "2412345"),
    ("case no. 24-12345", "24-12345"),
    ("me declaré en bancarrota, número de caso 24-12345", "24-12345"),
    ("I filed for bankruptcy. Case 1:24-bk-10234", "1:24-bk-10234"),
])
def test_PCI_2_CEASE_3_a_case_number_repeated_at_the_question_is_never_taken_for_a_card(previous, message):
    """Exploratory tester: the case number given with the report, typed again where the form asked for it, got the
    card warning and "[REDACTED]" was stored as the case number: the two 7-digit halves joined into a Luhn-valid
    14-digit window. Digits the words call a case number now carry nothing. Mutation tried: the `_CASE_LABEL` test
    removed from `_carry_part` -> the repeat is redacted as a card: fails."""
    first = redact(previous)
    second = redact(message, carry=first.carry)
    assert (first.text, second.text, second.kinds, second.redact_previous_tail) == (previous, message, (), False)


@settings(deadline=None)
@given(typed=typed_cards(separators=(" ", "-")), cut=st.integers(4, 12))
def test_PCI_2_a_card_after_card_words_is_still_joined_across_two_messages(typed, cut):
    """The case-number exemption is the case words only: "my card number is" before the first half still joins."""
    card, _ = typed
    first = redact(f"my card number is {card[:cut]}")
    second = redact(card[cut:], carry=first.carry)
    if first.kinds:  # the first half held a Luhn-valid window by itself (documented limit)
        return
    assert second.redact_previous_tail and "card" in second.kinds
