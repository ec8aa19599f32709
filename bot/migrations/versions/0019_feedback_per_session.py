"""feedback per session: the question is asked at most once per session of a conversation, not once ever

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:50:00

An SMS number or an email address is one conversation for years; with one question per conversation, a debtor was
asked once in their life (bot/feedback.py now also rests 30 days between two questions). Existing rows keep their
session as the time they were asked, which no later session can equal.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op



# revision identifiers, used by Alembic.
revision: str = '0019'
down_revision: Union[str, Sequence[str], None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_started_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE feedback_requests SET session_started_at = asked_at")
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.alter_column('session_started_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_constraint('uq_feedback_requests_conversation', type_='unique')
        batch_op.create_unique_constraint('uq_feedback_requests_conversation_session',
                                          ['conversation_id', 'session_started_at'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.drop_constraint('uq_feedback_requests_conversation_session', type_='unique')
        batch_op.create_unique_constraint('uq_feedback_requests_conversation', ['conversation_id'])
        batch_op.drop_column('session_started_at')
