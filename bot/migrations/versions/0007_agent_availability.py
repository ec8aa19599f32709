"""agent availability: an available / away switch per console user, read by the wait the bot quotes (HO-1)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema. Existing users start available, as the console counted them before the switch."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('available', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('available_changed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('available_changed_at')
        batch_op.drop_column('available')
