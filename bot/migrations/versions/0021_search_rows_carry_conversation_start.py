"""search rows carry their conversation's start: flags, handoffs and reviews get conversation_started_at, and the
search by flag, outcome or review status walks (filter, conversation_started_at, conversation_id) newest first

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 19:00:00

A page of a search by flag, handoff outcome or review status walked the conversations newest first and probed the
filter's index for each, about 3,000 probes until 50 matched, each slower in a larger index: 2.2-2.9x its
100,000-message database time at 10 million (docs/performance.md). With the conversation's start time copied onto
the filter's own rows, the page reads the filter's index newest first and stops at the page. Existing rows are
filled from their conversations. The reviews' (status, conversation_id) index of 0018 is replaced by the new one,
which serves their count as well (a conversation has one review row); flags and handoffs keep theirs, whose
conversation order lets the count skip a conversation's repeats without hashing.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0021'
down_revision: Union[str, Sequence[str], None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (table, filter column, new index)
TABLES = (
    ('conversation_flags', 'flag', 'ix_conversation_flags_flag_started'),
    ('handoffs', 'outcome', 'ix_handoffs_outcome_started'),
    ('conversation_reviews', 'status', 'ix_conversation_reviews_status_started'),
)


def upgrade() -> None:
    """Upgrade schema."""
    for table, column, index in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('conversation_started_at', sa.DateTime(timezone=True), nullable=True))
        op.execute(f"UPDATE {table} SET conversation_started_at = (SELECT conversations.started_at FROM conversations "
                   f"WHERE conversations.id = {table}.conversation_id)")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('conversation_started_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        op.create_index(index, table, [column, 'conversation_started_at', 'conversation_id'])
    op.drop_index('ix_conversation_reviews_status_conversation', table_name='conversation_reviews')


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index('ix_conversation_reviews_status_conversation', 'conversation_reviews', ['status', 'conversation_id'])
    for table, _column, index in reversed(TABLES):
        op.drop_index(index, table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('conversation_started_at')
