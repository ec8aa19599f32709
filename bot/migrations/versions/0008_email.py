"""email: delivery attempts and the Message-ID of queued messages, bounced addresses, and the demo mailbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 06:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('scheduled_messages', schema=None) as batch_op:
        # Temporary delivery failures so far (the queue's backoff) and the transport's id (an email's Message-ID).
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('provider_id', sa.String(length=250), nullable=True))
    with op.batch_alter_table('contact_preferences', schema=None) as batch_op:
        # EMAIL-1: a mail server refused the address for good; nothing more is sent to it.
        batch_op.add_column(sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('mailbox_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mail_from', sa.String(length=254), nullable=False),
    sa.Column('rcpt_to', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('message_id', sa.String(length=250), nullable=True),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('mailbox_messages')
    with op.batch_alter_table('contact_preferences', schema=None) as batch_op:
        batch_op.drop_column('bounced_at')
    with op.batch_alter_table('scheduled_messages', schema=None) as batch_op:
        batch_op.drop_column('provider_id')
        batch_op.drop_column('attempts')
