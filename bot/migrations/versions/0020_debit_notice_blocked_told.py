"""debit notice blocked, debtor told: when the debtor was told that a PLAN-3 notice could not be given

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:40:00

A blocked notice (stopped by the outbound gate, bounced, given up) stops its debit; the scheduler now tells the
debtor once, with a pay-now link, and marks the installment missed if it is still unpaid a few business days later.
The column is both the tell-once guard and the start of that window. Existing rows: nobody was told (NULL).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0020'
down_revision: Union[str, Sequence[str], None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('debit_notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_told_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('debit_notices', schema=None) as batch_op:
        batch_op.drop_column('blocked_told_at')
