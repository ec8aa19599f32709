"""TONE-2: every money figure a message carries, in integer cents, so the outbound gate can hold an agent's reply to
the ledger's figures whatever way the figure was typed.

Covered (case-insensitive; commas as thousands separators; up to 2 decimal places, more are rounded half-up):
- a currency prefix: "$500", "$ 500", "$500.00", "$1,234.56", "$.50", "US$500", "USD 500", "USD500";
- a currency suffix: "500 dollars", "1,234.56 dollars", "500 bucks", "500 USD", "500$", "1 dollar";
- thousands and millions: "$1.2k", "$2K", "2k dollars", "$1.5m", "$3 thousand", "2 grand", "a grand";
- cents: "50 cents", "50¢", "fifty cents", and dollars with cents: "5 dollars and 50 cents" (one figure, 550);
- number words up to the millions with a unit, in English or Spanish (LANG-1): "cincuenta dólares", "mil
  quinientos dolares", "five hundred dollars", "two hundred fifty dollars", "two hundred
  and fifty bucks", "twenty-five dollars", "twelve hundred dollars", "a hundred bucks", "a dollar";
- a bare number with exactly two decimals ("412.50"), which is how money is written;
- a bare number right after owe / owing / pay / balance (is|of) / total (is|of) / amount (is|of) / payment(s) of
  ("you owe 500", "balance is 412", "pay 5k") unless a count, date or percentage follows ("pay 3 times",
  "pay 12/27", "pay 5%").

Not money, and tested as such: dates ("12/27", "03.14.1979", "2026-03-06"), phone numbers, account references
("SET-100001"), percentages ("5%", "5 percent"), counts ("3 payments", "three payments"), times ("8:00").

Not covered (a figure typed these ways still passes): bare numbers without a unit or one of the words above ("it's
500 now"); number words without a unit ("you owe five hundred"); fractions and vague amounts ("half a grand", "a
couple hundred", "a dollar fifty"); other currencies (EUR, £) and European decimals ("1.234,56"); figures spelled
with spaces or look-alike characters ("5 0 0", "$5OO"). A bare two-decimal number that is not money ("version 1.20",
"at 8.30") is reported as money: the stricter reading, an agent rewrites it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

_ONES = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
         "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
# LANG-1: the same figures in Spanish words ("cincuenta dólares", "doscientos cincuenta", "mil quinientos").
_ONES_ES = {"cero": 0, "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
            "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14,
            "quince": 15, "dieciseis": 16, "dieciséis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19,
            "veinte": 20, "veintiuno": 21, "veintiun": 21, "veintiún": 21, "veintidos": 22, "veintidós": 22,
            "veintitres": 23, "veintitrés": 23, "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26,
            "veintiséis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "treinta": 30, "cuarenta": 40,
            "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90, "cien": 100, "ciento": 100,
            "doscientos": 200, "trescientos": 300, "cuatrocientos": 400, "quinientos": 500, "seiscientos": 600,
            "setecientos": 700, "ochocientos": 800, "novecientos": 900}
_SCALES_ES = {"mil": 1000, "millon": 1_000_000, "millón": 1_000_000, "millones": 1_000_000}
_ONES.update(_ONES_ES)
_SCALES.update(_SCALES_ES)
_WORD = "(?:" + "|".join(sorted([*_ONES, *_SCALES], key=len, reverse=True)) + ")"
# "two hundred and fifty", "twenty-five", "a hundred"; a lone "a" counts only before a unit ("a dollar", "a grand").
_WORDS = (rf"(?:\ban?\s+)?\b{_WORD}(?:(?:\s+(?:and|y)\s+|[\s-]+){_WORD})*\b"
          r"|\ba(?=\s+(?:dollar|buck|grand)\b)")
_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
_NUM = rf"(?<![\w.,/$-])(?:{_DIGITS})(?![0-9])"
_MULT = r"(?:(?<=[0-9])[km]\b|\s+(?:thousand|million)\b)"
_UNIT = r"(?:dollars?|bucks?|d[oó]lar(?:es)?\b|usd\b|us\s+dollars?|\$|grand\b)"
_CENTS = rf"(?P<cents>{_NUM}|{_WORDS})\s*(?:cents?\b|¢)"
# What makes a bare number after "pay" or "owe" something other than money.
_NOT_MONEY_AFTER = (r"(?!\s*(?:%|percent|per\s*cent|payments?|instal+ments?|times?|months?|weeks?|days?|years?|"
                    r"hours?|hrs?|minutes?|mins?|accounts?|bills?|cards?|debts?|people|items?|texts?|messages?|"
                    r"calls?|of\s+(?:them|those|these)|am\b|pm\b|[ap]\.m\.|[:/-][0-9])|st\b|nd\b|rd\b|th\b|[.,][0-9])")

_MONEY = re.compile(
    # prefix: $500, USD 500, US$1.2k
    rf"(?P<p>(?:\bus\s?\$|\$|\busd(?![a-z])|\bus\s+dollars?\b)\s?(?P<p_num>{_DIGITS})(?P<p_mult>{_MULT})?)"
    # suffix: 500 dollars, five hundred bucks, 2k USD, 2 grand; optional "and 50 cents"
    rf"|(?P<s>(?P<s_num>{_NUM}|{_WORDS})(?P<s_mult>{_MULT})?\s*(?P<s_unit>{_UNIT})"
    rf"(?:\s*,?\s*(?:and\s+)?(?P<s_cents>{_NUM}|{_WORDS})\s*(?:cents?\b|¢))?)"
    # cents alone: 50 cents, fifty cents, 50¢
    rf"|(?P<c>{_CENTS})"
    # context: you owe 500, balance is 412, pay 5k (not pay 3 times, pay 12/27)
    rf"|(?P<x>\b(?:owe[sd]?|owing|(?:re)?pay(?:ing)?|balance(?:\s+(?:is|of))?|total(?:\s+(?:is|of))?|"
    rf"amount(?:\s+(?:is|of))?|payments?\s+of)\s+(?P<x_num>{_NUM})(?P<x_mult>(?<=[0-9])k\b)?"
    rf"(?!\s*(?:{_UNIT}|cents?\b|¢)){_NOT_MONEY_AFTER})"
    # bare two-decimal figure: 412.50
    rf"|(?P<d>(?<![\w.,/$-])(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]+)\.[0-9]{{2}}(?![0-9]|[.,/-][0-9]|\s*(?:%|percent)))",
    re.IGNORECASE,
)


def _words_value(text: str) -> int:
    """ "two hundred and fifty" -> 250; "a hundred" -> 100; "twelve hundred" -> 1200."""
    total = current = 0
    for token in re.split(r"[\s-]+", text.lower()):
        if token in ("a", "an"):
            current = current or 1
        elif token in _ONES:
            current += _ONES[token]
        elif token == "hundred":
            current = (current or 1) * 100
        elif token in _SCALES:  # thousand, million close a group: "five thousand two hundred"
            total += (current or 1) * _SCALES[token]
            current = 0
    return total + current


def _value(number: str) -> Decimal:
    number = number.strip()
    if number[:1].isdigit() or number.startswith("."):
        return Decimal(number.replace(",", ""))
    return Decimal(_words_value(number))


def _times(mult: str | None) -> int:
    word = (mult or "").strip().lower()
    return {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000}.get(word, 1)


def _cents(dollars: Decimal) -> int:
    return int((dollars * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amounts_in(text: str) -> list[int]:
    """TONE-2: every money figure in `text`, in integer cents, in order of appearance (repeats kept). See the
    module docstring for what is and is not recognised."""
    found: list[int] = []
    for m in _MONEY.finditer(text):
        if m["p"]:
            found.append(_cents(_value(m["p_num"]) * _times(m["p_mult"])))
        elif m["s"]:
            dollars = _value(m["s_num"]) * _times(m["s_mult"])
            if m["s_unit"].strip().lower() == "grand":
                dollars *= 1000
            extra = _value(m["s_cents"]) if m["s_cents"] else Decimal(0)
            found.append(_cents(dollars) + int(extra))
        elif m["c"]:
            found.append(int(_value(m["cents"]).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        elif m["x"]:
            found.append(_cents(_value(m["x_num"]) * _times(m["x_mult"])))
        else:
            found.append(_cents(_value(m["d"])))
    return found


# TONE-2 and the plan policy: a discount a person offers, in percent ("50% off", "take 30 percent off", "a 25%
# discount", "half off", "un descuento del 40%", "la mitad"). A percentage with no word of discount near it in the
# same sentence ("0% interest", "100% of the balance") is not one.
_DISCOUNT_WORDS = (r"(?:off|discount\w*|less|reduc\w*|waiv\w*|forgiv\w*|cut|knock\w*|lower|savings?|save|"
                   r"descuento\w*|menos|rebaj\w*|quita\w*|perdon\w*|condon\w*|ahorr\w*)")
_PERCENT = r"(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?:%|percent\b|per\s*cent\b|por\s*ciento\b)"
_PERCENT_OFF = re.compile(
    rf"{_PERCENT}(?=[^.!?\n]{{0,40}}?\b{_DISCOUNT_WORDS}\b)"
    rf"|\b{_DISCOUNT_WORDS}\b[^.!?\n]{{0,30}}?{_PERCENT.replace('?P<n>', '?P<m>')}"
    r"|\b(?P<half>half\s+off|(?:take|knock|cut)\s+(?:off\s+)?half|(?:quit\w*|rebaj\w*|descuento\s+de)\s+(?:\w+\s+)?"
    r"la\s+mitad|la\s+mitad\s+de\s+descuento)\b",
    re.IGNORECASE,
)


def percents_off(text: str) -> list[Decimal]:
    """The discounts `text` offers, in percent, in order of appearance ("half off" is 50)."""
    found: list[Decimal] = []
    for m in _PERCENT_OFF.finditer(text):
        found.append(Decimal(50) if m["half"] else Decimal(m["n"] or m["m"]))
    return found
