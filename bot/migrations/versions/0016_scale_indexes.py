"""scale indexes: what a million-account import and the compliance console on ten million messages look up

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:30:00

Every index here is there because a query that runs per batch, per page or per turn otherwise scans a table that
grows with the portfolio (docs/performance.md, "Large portfolios", has the plans before and after).
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (name, table, columns)
INDEXES = (
    # The import finds the people of each batch by date of birth and SSN last 4 (bot/portfolio_import.py).
    ('ix_debtors_dob_ssn_last4', 'debtors', ['dob', 'ssn_last4']),
    # The compliance search's newest-first pages, its date filter and the KPIs' date range (bot/records/search.py,
    # kpi.py); its phone filter (the channel address, or the debtor's phone) and account filter.
    ('ix_conversations_started_at', 'conversations', ['started_at']),
    ('ix_conversations_external_id', 'conversations', ['external_id']),
    ('ix_conversations_debtor_id', 'conversations', ['debtor_id']),
    ('ix_conversations_account_id', 'conversations', ['account_id']),
    # The search's intent filter: whether a conversation has a message with that reading, one index probe per
    # conversation (without it PostgreSQL hashed every message with the intent: 8x slower at 1M messages).
    ('ix_messages_conversation_id_intent', 'messages', ['conversation_id', 'intent']),
    # The promise-to-pay KPI: installments due in the range.
    ('ix_installments_due_date', 'installments', ['due_date']),
)


def upgrade() -> None:
    """Upgrade schema."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Downgrade schema."""
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
