"""verification attempts name the person they were checked against (ID-3 counts failures per debtor)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('debtor_id', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_verification_attempts_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_foreign_key('fk_verification_attempts_debtor_id_debtors', 'debtors', ['debtor_id'], ['id'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_verification_attempts_debtor_id_debtors', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_verification_attempts_debtor_id'))
        batch_op.drop_column('debtor_id')
