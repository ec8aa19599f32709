"""shared policy and recurring campaigns: policy documents edited at /ops as versions every process reads, and a
campaign's schedule (a round every N days until an end) with one row per message of each round

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 13:45:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'policy_versions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name', 'version', name='uq_policy_versions_name_version'),
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeat_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rounds', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'campaign_sends',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('campaign_id', sa.String(length=40), nullable=False),
        sa.Column('account_id', sa.String(length=40), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('scheduled_message_id', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id']),
        sa.ForeignKeyConstraint(['scheduled_message_id'], ['scheduled_messages.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'account_id', 'round', name='uq_campaign_sends_round'),
    )
    with op.batch_alter_table('campaign_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_sends_campaign_id'), ['campaign_id'], unique=False)
    # Campaigns that already ran had one round: its messages are the recipients' own.
    op.execute("UPDATE campaigns SET rounds = 1 WHERE status = 'run'")
    op.execute("INSERT INTO campaign_sends (campaign_id, account_id, round, scheduled_message_id) "
               "SELECT campaign_id, account_id, 1, scheduled_message_id FROM campaign_recipients "
               "WHERE scheduled_message_id IS NOT NULL")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('campaign_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_sends_campaign_id'))
    op.drop_table('campaign_sends')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('rounds')
        batch_op.drop_column('next_run_at')
        batch_op.drop_column('ends_at')
        batch_op.drop_column('repeat_days')
    op.drop_table('policy_versions')
