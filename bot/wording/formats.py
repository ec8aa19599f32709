"""Money and dates as each language writes them, with our own month and day names (the server's locale never
changes what a debtor reads; the day names are the catalogue's day_0 .. day_6).

Money: the US convention in both languages ("$1,234.56"). Spanish-language statements, bills and cards in the US
use it, and a debtor compares our figure with theirs; "$1.234,56" would read as a different amount to many.
Dates: spelled out, "Friday, March 6, 2026" and "viernes, 6 de marzo de 2026" (lower-case names, as Spanish
writes them)."""

from __future__ import annotations

from datetime import date

from bot.money import format_cents
from bot.wording import SPANISH, say

_MONTH_NAMES = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
}


def money(cents: int, currency: str = "USD", language: str | None = None) -> str:
    """Integer cents as the debtor reads them: "$1,234.56" in either language (see above)."""
    return format_cents(cents, currency)


def day_name(weekday: int, language: str | None = None) -> str:
    """0 (Monday) .. 6 as the debtor reads it: "Monday" / "lunes" (the catalogue's day_0 .. day_6)."""
    return say(f"day_{weekday}", language)


def long_date(day: date, language: str | None = None, *, weekday: bool = True, year: bool = True) -> str:
    """date(2026, 3, 6) -> "Friday, March 6, 2026" / "viernes, 6 de marzo de 2026"; without the year,
    "Friday, March 6" / "viernes, 6 de marzo"."""
    if language == SPANISH:
        text = f"{day.day} de {_MONTH_NAMES['es'][day.month - 1]}" + (f" de {day.year}" if year else "")
    else:
        text = f"{_MONTH_NAMES['en'][day.month - 1]} {day.day}" + (f", {day.year}" if year else "")
    return f"{day_name(day.weekday(), language)}, {text}" if weekday else text
