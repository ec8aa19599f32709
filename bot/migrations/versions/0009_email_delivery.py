"""email delivery: provider events (delivered, bounced, complained) by Message-ID, and work addresses

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ADD COLUMN (no batch): SQLite's batch mode would rebuild debtors, which accounts reference.
    # "delivered" only when the provider says so (its webhook); found by the Message-ID the queue stored.
    op.add_column('scheduled_messages', sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_scheduled_messages_provider_id', 'scheduled_messages', ['provider_id'])
    # EMAIL-2, 1006.22(f)(3): the email on file is a work address / the employer forbids email there.
    op.add_column('debtors', sa.Column('email_work', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('debtors', sa.Column('email_employer_forbids', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    # Every email Settle handed to a mail server, by its Message-ID: what a provider's event names, and the
    # thread a reply in a live email conversation continues.
    op.create_table('email_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=250), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('conversation_id', sa.String(length=40), nullable=True),
    sa.Column('message_row_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', name='uq_email_messages_message_id')
    )
    op.create_index('ix_email_messages_conversation_id', 'email_messages', ['conversation_id'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_email_messages_conversation_id', table_name='email_messages')
    op.drop_table('email_messages')
    op.drop_column('debtors', 'email_employer_forbids')
    op.drop_column('debtors', 'email_work')
    op.drop_index('ix_scheduled_messages_provider_id', table_name='scheduled_messages')
    op.drop_column('scheduled_messages', 'delivered_at')
