"""feedback and propensity: the end-of-conversation question and its answers, and trained propensity models

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 11:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'feedback_requests',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('conversation_id', sa.String(length=40), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('ended_by', sa.String(length=10), nullable=False),
        sa.Column('agent_id', sa.String(length=40), nullable=True),
        sa.Column('handoff_id', sa.String(length=40), nullable=True),
        sa.Column('intent', sa.String(length=60), nullable=True),
        sa.Column('question_message_id', sa.Integer(), nullable=False),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('score_message_id', sa.Integer(), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('comment_message_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['users.id']),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id']),
        sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('conversation_id', name='uq_feedback_requests_conversation'),
    )
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_requests_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_requests_asked_at'), ['asked_at'], unique=False)
    op.create_table(
        'propensity_models',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('version', sa.String(length=20), nullable=False),
        sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('history_as_of', sa.DateTime(timezone=True), nullable=False),
        sa.Column('horizon_days', sa.Integer(), nullable=False),
        sa.Column('accounts', sa.Integer(), nullable=False),
        sa.Column('positives', sa.Integer(), nullable=False),
        sa.Column('cv_auc', sa.Float(), nullable=False),
        sa.Column('brier', sa.Float(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.Column('estimator', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('version'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('propensity_models')
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_requests_asked_at'))
        batch_op.drop_index(batch_op.f('ix_feedback_requests_agent_id'))
    op.drop_table('feedback_requests')
