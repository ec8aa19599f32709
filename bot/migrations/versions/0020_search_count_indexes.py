"""search count index: the compliance search counts handoff outcomes from their own index

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06 14:00:00

The search by handoff outcome counted its matches by reading conversations newest first until 1,001 matched (6.2x
its 100,000-message time at 10 million; docs/performance.md). Counting from (outcome, conversation_id) reads at most
1,001 entries of this index, as the flag search does from ix_conversation_flags_flag_conversation.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0020'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_handoffs_outcome_conversation', 'handoffs', ['outcome', 'conversation_id'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_handoffs_outcome_conversation', table_name='handoffs')
