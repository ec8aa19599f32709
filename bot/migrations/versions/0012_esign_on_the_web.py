"""esign on the web: an E-SIGN answer given by the box on the payment-done page has no chat messages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_OPTIONAL = (('conversation_id', sa.String(length=40)), ('question_message_id', sa.Integer()),
             ('answer_message_id', sa.Integer()))


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('esign_consents', schema=None) as batch_op:
        for name, type_ in _OPTIONAL:
            batch_op.alter_column(name, existing_type=type_, nullable=True)
        batch_op.add_column(sa.Column('via', sa.String(length=10), nullable=False, server_default='chat'))


def downgrade() -> None:
    """Downgrade schema (answers given on the web, without chat messages, are dropped first)."""
    op.execute("DELETE FROM esign_consents WHERE via <> 'chat'")
    with op.batch_alter_table('esign_consents', schema=None) as batch_op:
        batch_op.drop_column('via')
        for name, type_ in _OPTIONAL:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
