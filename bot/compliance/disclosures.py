"""Legal disclosures. The wording is fixed: it must not depend on a probabilistic policy."""

from __future__ import annotations

# DISC-1: the first message that conveys any debt information (12 CFR 1006.18(e)(1)).
DEBT_COLLECTOR_DISCLOSURE = (
    "This is a debt collector. This is an attempt to collect a debt, "
    "and any information obtained will be used for that purpose."
)

# DISC-2: later communications say they are from a debt collector (1006.18(e)(2)).
FROM_DEBT_COLLECTOR = "This message is from a debt collector."
