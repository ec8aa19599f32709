"""DISC-3 / ID-1: the one detector for "does this message reveal a debt?", for every text that can be sent before
right-party verification. Whoever holds the phone may not be the debtor: a message that could be said before
verification names no debt, collection, balance, payment, plan, dispute, creditor or amount, so a neighbour who
reads it learns nothing (a message that conveys nothing about a debt is not a "communication", 1006.2(d)).

The outbound gate uses it for content-neutral first contacts, for a person's words before verification, and for
any talk of the debt on a ceased account.

Spanish is read with the same pattern: deuda, debe, saldo, cobro, pago, plan, mensualidad, cuota, cantidad,
disputa, acreedor... ("cuenta" on its own is allowed like "account").

Deliberately allowed: "account" on its own (verification asks for the account number from our letter), and words
the consumer brought into the conversation that a rule obliges us to answer, such as "attorney" (CEASE-2) and
"bankruptcy case number" (CEASE-3): echoing them tells the reader nothing they did not say."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DEBT_TERMS = re.compile(
    r"""\b(?:
        debts?|indebted|owe[sd]?|owing|balances?|collect\w*|past[ -]due|overdue|arrears|delinquen\w*
      | creditors?|lenders?|loans?|bill(?:s|ing|ed)?|invoices?
      | pay|pays|paying|paid|payments?|payoff|repa\w+|instal(?:l)?ments?|plans?|amounts?|fees?
      | disput\w*|settlements?|charged[ -]off|garnish\w*|lawsuits?|legal\ action
      | credit\ (?:report|score|bureau|file|rating|history)|account\ (?:ending|balance)
      | deudas?|debe[sn]?|debo|debemos|adeud\w*|saldos?|cobr\w*|vencid\w*|atrasad\w*|morosi\w*
      | acreedor(?:es|a)?|prestamos?|préstamos?|facturas?|cuentas?\ (?:pendientes?|por\ pagar)
      | pag(?:o|os|ar|ue|ues|ado|ada|ados|adas|ando|a|as|an|amos|ara|aremos)|mensualidad(?:es)?|cuotas?
      | planes|cantidad(?:es)?|cargos?|disputa\w*|demandas?|embargo\w*|acuerdo\ de\ pago
      | informe\ de\ cr[eé]dito|historial\ de\ cr[eé]dito
    )\b
    | [$€£]\s?\d | \b\d[\d,]*(?:\.\d\d)?\s?(?:dollars|usd)\b""",
    re.IGNORECASE | re.VERBOSE,
)


def debt_content(text: str, creditors: Iterable[str] = ()) -> list[str]:
    """The words in `text` that reveal a debt relationship (empty when it is content-neutral). `creditors`: names
    that must not appear either, e.g. the creditor of the accounts the conversation may be about."""
    found = [m.group(0) for m in _DEBT_TERMS.finditer(text)]
    lowered = text.lower()
    found += [name for name in creditors if name and name.lower() in lowered]
    return found


def is_neutral(text: str, creditors: Iterable[str] = ()) -> bool:
    return not debt_content(text, creditors)
