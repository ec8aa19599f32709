"""drop messages(conversation_id, intent): the intent search reads conversation_intents (0022) now

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 00:20:00

Migration 0016 added the index for the compliance search's intent filter; since 0022 that filter walks
conversation_intents and nothing reads this index any more (a single conversation's messages come by
messages(conversation_id, id)). Keeping it cost every message twice: an entry on insert, and, because a message's
intent is written after its turn, an UPDATE of an indexed column, which PostgreSQL cannot do in place (no HOT update),
so every index of the row got a new entry again.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0023'
down_revision: Union[str, Sequence[str], None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index('ix_messages_conversation_id_intent', table_name='messages')


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index('ix_messages_conversation_id_intent', 'messages', ['conversation_id', 'intent'], unique=False)
