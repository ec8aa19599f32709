"""notices: the validation notice as a document (itemization, postal address), E-SIGN consent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 08:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_SINCE = ('interest_since_cents', 'fees_since_cents')


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        # DISC-5 / 1006.34(c)(2): the itemization date, the amount then, and what changed since.
        batch_op.add_column(sa.Column('itemization_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('itemization_cents', sa.BigInteger(), nullable=True))
        for name in _SINCE:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default='0'))
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postal_address', sa.Text(), nullable=True))
    with op.batch_alter_table('scheduled_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document', sa.JSON(), nullable=True))
    op.create_table('esign_consents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('debtor_id', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('conversation_id', sa.String(length=40), nullable=False),
    sa.Column('question_message_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer_message_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('consented', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('esign_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_esign_consents_debtor_id'), ['debtor_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('esign_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_esign_consents_debtor_id'))
    op.drop_table('esign_consents')
    with op.batch_alter_table('scheduled_messages', schema=None) as batch_op:
        batch_op.drop_column('document')
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.drop_column('postal_address')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        for name in reversed(_SINCE):
            batch_op.drop_column(name)
        batch_op.drop_column('itemization_cents')
        batch_op.drop_column('itemization_date')
