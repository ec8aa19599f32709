"""search and KPI indexes: the compliance search counts handoff outcomes and review statuses from their own
indexes; the recovery KPI reads the payments applied in its range

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:00:00

The search by handoff outcome counted its matches by reading conversations newest first until 1,001 matched (6.2x
its 100,000-message time at 10 million; docs/performance.md). Counting from (outcome, conversation_id) reads at most
1,001 entries of this index, as the flag search does from ix_conversation_flags_flag_conversation. The KPIs read
the payments applied in their range by time, not by hashing every payment (bot/records/kpi.py).
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_handoffs_outcome_conversation', 'handoffs', ['outcome', 'conversation_id'])
    op.create_index('ix_conversation_reviews_status_conversation', 'conversation_reviews', ['status', 'conversation_id'])
    op.create_index('ix_payments_applied_at', 'payments', ['applied_at'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_payments_applied_at', table_name='payments')
    op.drop_index('ix_conversation_reviews_status_conversation', table_name='conversation_reviews')
    op.drop_index('ix_handoffs_outcome_conversation', table_name='handoffs')
