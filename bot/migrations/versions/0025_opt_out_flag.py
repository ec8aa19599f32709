"""conversation_flags: an opt-out of one channel (OPT-3) is flagged opt_out, no longer cease

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 04:35:00

Compliance reviewers filter on "cease" to find cease notices (CEASE-1..4: all contact stops); every SMS STOP was
flagged the same way and drowned them. Opt-outs raised since are flagged "opt_out" (bot/records/flags.py); this moves
the ones raised before, which carry the OPT-3 rule id.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0025'
down_revision: Union[str, Sequence[str], None] = '0024'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("UPDATE conversation_flags SET flag = 'opt_out' WHERE flag = 'cease' AND rule_id = 'OPT-3'")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("UPDATE conversation_flags SET flag = 'cease' WHERE flag = 'opt_out'")
