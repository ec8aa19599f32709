"""Money values. Amounts are integer cents everywhere; text is parsed with Decimal, never float."""

from __future__ import annotations

import re
from decimal import Context, Decimal, Inexact, Rounded

# Digits are spelled [0-9] on purpose: \d (and Decimal itself) accept non-ASCII digits such as "١٢".
_AMOUNT = re.compile(r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.(?P<frac>[0-9]*))?")
_NON_FINITE = {"nan", "snan", "inf", "infinity"}

CURRENCY_SYMBOLS = {"USD": "$"}
# 10**18 dollars is beyond any real balance and beyond what a BIGINT of cents can hold anyway.
MAX_DOLLAR_DIGITS = 18
# Our own context, so a program that changes decimal's global precision cannot change our results,
# and rounding of any kind raises instead of silently losing cents.
_EXACT = Context(prec=28, traps=[Inexact, Rounded])


def parse_dollars(text: str) -> int:
    """Dollars as typed in a file or by a person ("1234.56", "1,234.56", "$12", "0.5") -> cents.

    Raises ValueError saying what is wrong: empty, negative, more than 2 decimal places,
    not a number, not finite, or too large.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_dollars takes text, got {type(text).__name__}")
    raw = text.strip()
    if not raw:
        raise ValueError("amount is empty")
    if raw.startswith(("-", "$-")):
        raise ValueError(f"amount {raw!r} is negative; only amounts of zero or more are allowed")
    body = raw.removeprefix("$").strip()
    if body.lstrip("+").lower() in _NON_FINITE:
        raise ValueError(f"amount {raw!r} is not a finite number")
    match = _AMOUNT.fullmatch(body)
    if match is None or not (match["int"] or match["frac"]):
        raise ValueError(f"amount {raw!r} is not a dollar amount like 1234.56")
    frac = match["frac"] or ""
    if len(frac) > 2:
        raise ValueError(f"amount {raw!r} has more than 2 decimal places")
    digits = (match["int"] or "0").replace(",", "").lstrip("0") or "0"
    if len(digits) > MAX_DOLLAR_DIGITS:
        raise ValueError(f"amount {raw!r} is too large")
    return int(_EXACT.multiply(Decimal(f"{digits}.{frac or '0'}"), 100))


# How a person types an amount: US grouping and a dot for the cents ("1,234.56", "12.5"), or a comma for the cents as
# Spanish and most of the world write it ("12,50"): a single comma followed by exactly two digits and nothing else.
_TYPED_US = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?|[0-9]+(?:\.[0-9]{1,2})?|\.[0-9]{1,2}")
_TYPED_DECIMAL_COMMA = re.compile(r"(?P<int>[0-9]+),(?P<frac>[0-9]{2})")
NEGATIVE, INEXACT = "negative", "inexact"


class UnreadableAmount(ValueError):
    """A typed amount that cannot be read exactly; `reason` is NEGATIVE or INEXACT (more than 2 decimal places, or
    separators no reading makes exact: "12.345", "12,5", "1.234,56")."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"amount {text!r} is {reason}")
        self.reason = reason


def parse_typed_dollars(text: str) -> int:
    """An amount a person typed ("$12.50", "1,234.56", "12,50", "-50") -> integer cents, read exactly or refused.
    "12,50" is $12.50 (a comma then exactly two digits is the cents, never $12.00 and never $1,250); "1,250" is
    $1,250.00. Raises UnreadableAmount: NEGATIVE for a minus sign ("-50", "$-50", "-$50"), INEXACT for anything
    else no reading makes exact ("12.345" is never $12.00 or $12.35: the person is asked again)."""
    raw = " ".join(text.replace("\u2212", "-").split())
    body = raw.replace(" ", "")
    if body.startswith(("-", "$-")):
        raise UnreadableAmount(text, NEGATIVE)
    body = body.removeprefix("$")
    if _TYPED_US.fullmatch(body):
        return parse_dollars(body)
    comma = _TYPED_DECIMAL_COMMA.fullmatch(body)
    if comma:
        return parse_dollars(f"{comma['int']}.{comma['frac']}")
    raise UnreadableAmount(text, INEXACT)


def format_cents(cents: int, currency: str = "USD") -> str:
    """Cents -> "$1,234.56" (USD) or "1,234.56 EUR" for currencies without a known symbol."""
    # bool is an int and a float would hide a unit mistake; both are programming errors here.
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"format_cents takes integer cents, got {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    amount = f"{dollars:,}.{rest:02d}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol is not None:
        return f"{sign}{symbol}{amount}"
    return f"{sign}{amount} {currency}"
