"""conversation intents: which intents were read in each conversation, with its start time, for the compliance
search by intent to walk (intent, conversation_started_at, conversation_id) newest first

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 21:10:00

The search "intent, last 7 days" probed the week's conversations newest first for a message with that intent
(messages(conversation_id, intent), migration 0016) until 1,001 matched: 2,502 probes into a ten-million-row index,
4.4-7.5x its 100,000-message database time (docs/performance.md). One row per (conversation, intent), carrying the
conversation's start like 0021's flags, handoffs and reviews, lets its count and pages read their own index and stop.
Existing messages' intents are copied in, joined to their conversation's start.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0022'
down_revision: Union[str, Sequence[str], None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'conversation_intents',
        sa.Column('conversation_id', sa.String(length=40), nullable=False),
        sa.Column('intent', sa.String(length=60), nullable=False),
        sa.Column('conversation_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
        sa.PrimaryKeyConstraint('conversation_id', 'intent'),
    )
    op.execute("INSERT INTO conversation_intents (conversation_id, intent, conversation_started_at) "
               "SELECT read.conversation_id, read.intent, conversations.started_at "
               "FROM (SELECT DISTINCT conversation_id, intent FROM messages WHERE intent IS NOT NULL) AS read "
               "JOIN conversations ON conversations.id = read.conversation_id")
    op.create_index('ix_conversation_intents_intent_started', 'conversation_intents',
                    ['intent', 'conversation_started_at', 'conversation_id'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_conversation_intents_intent_started', table_name='conversation_intents')
    op.drop_table('conversation_intents')
