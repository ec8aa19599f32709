"""saved_messages: inbound messages stored while no Rasa answered, waiting to be answered; conversations' claim

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 07:15:00

A message stored while Rasa was down was marked "unprocessed" and nothing ever answered it. The queue of such
messages is a table of its own (a partial index on messages.status would make every status update a non-HOT update
on PostgreSQL, as migration 0023 explains), and a conversation's saved messages are claimed by one worker at a time
through two columns on conversations (bot/messaging/saved.py). Messages left "unprocessed" before this migration are
queued too, so they are answered or handed to a person like the rest.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0026'
down_revision: Union[str, Sequence[str], None] = '0025'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'saved_messages',
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=40), nullable=False),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('new_session', sa.Boolean(), nullable=False),
        sa.Column('turn_metadata', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id']),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('message_id'),
    )
    op.create_index('ix_saved_messages_conversation_id', 'saved_messages', ['conversation_id'])
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('saved_claimed_by', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('saved_claimed_until', sa.DateTime(timezone=True), nullable=True))
    op.execute("INSERT INTO saved_messages (message_id, conversation_id, saved_at, new_session) "
               "SELECT id, conversation_id, created_at, false FROM messages "
               "WHERE direction = 'in' AND status = 'unprocessed'")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('conversations') as batch:
        batch.drop_column('saved_claimed_until')
        batch.drop_column('saved_claimed_by')
    op.drop_index('ix_saved_messages_conversation_id', table_name='saved_messages')
    op.drop_table('saved_messages')
