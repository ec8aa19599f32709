"""conversations.awaiting_identity: the identity question the verify form asked last, if one is unanswered

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 04:30:00

ID-2, REC-2: an answer to an identity question is stored as what it is ("[date of birth]"), never its value, and
the gateway must know before it stores a message that it answers one (bot/records/identity_answers.py). Rasa says
after each turn which slot its form asks for next; this column keeps it until the next message arrives.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0024'
down_revision: Union[str, Sequence[str], None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('awaiting_identity', sa.String(length=20), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('conversations') as batch:
        batch.drop_column('awaiting_identity')
