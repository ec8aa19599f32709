"""operations: campaigns and the accounts they reach, each with its randomly drawn variant

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 11:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'campaigns',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('segment', sa.String(length=60), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('variants', sa.JSON(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('result_days', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_by', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'campaign_recipients',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('campaign_id', sa.String(length=40), nullable=False),
        sa.Column('account_id', sa.String(length=40), nullable=False),
        sa.Column('variant', sa.String(length=20), nullable=True),
        sa.Column('scheduled_message_id', sa.String(length=40), nullable=True),
        sa.Column('skip_reason', sa.Text(), nullable=True),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id']),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['scheduled_message_id'], ['scheduled_messages.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'account_id', name='uq_campaign_recipients_account'),
    )
    op.create_index('ix_campaign_recipients_campaign_id', 'campaign_recipients', ['campaign_id'])
    op.create_index('ix_campaign_recipients_account_id', 'campaign_recipients', ['account_id'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_campaign_recipients_account_id', table_name='campaign_recipients')
    op.drop_index('ix_campaign_recipients_campaign_id', table_name='campaign_recipients')
    op.drop_table('campaign_recipients')
    op.drop_table('campaigns')
