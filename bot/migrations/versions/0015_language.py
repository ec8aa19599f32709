"""language: each conversation, contact address and debtor keeps its language; agents list theirs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('language_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('language_asked_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('contact_preferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('languages')
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('contact_preferences', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('language_asked_at')
        batch_op.drop_column('language_confirmed_at')
        batch_op.drop_column('language')
