"""Money and dates as each language writes them, with our own month and day names (the server's locale never
changes what a debtor reads).

Money: the US convention in both languages ("$1,234.56"). Spanish-language statements, bills and cards in the US
use it, and a debtor compares our figure with theirs; "$1.234,56" would read as a different amount to many.
Dates: spelled out, "Friday, March 6, 2026" and "viernes, 6 de marzo de 2026" (lower-case names, as Spanish
writes them)."""

from __future__ import annotations

from datetime import date

from bot.money import format_cents
from bot.wording import SPANISH

_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTH_NAMES = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
}


def money(cents: int, currency: str = "USD", language: str | None = None) -> str:
    """Integer cents as the debtor reads them: "$1,234.56" in either language (see above)."""
    return format_cents(cents, currency)


def long_date(day: date, language: str | None = None, *, weekday: bool = True) -> str:
    """date(2026, 3, 6) -> "Friday, March 6, 2026" / "viernes, 6 de marzo de 2026"."""
    if language == SPANISH:
        text = f"{day.day} de {_MONTH_NAMES['es'][day.month - 1]} de {day.year}"
        return f"{_DAY_NAMES['es'][day.weekday()]}, {text}" if weekday else text
    text = f"{_MONTH_NAMES['en'][day.month - 1]} {day.day}, {day.year}"
    return f"{_DAY_NAMES['en'][day.weekday()]}, {text}" if weekday else text
