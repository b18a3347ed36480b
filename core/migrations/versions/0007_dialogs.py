"""dialogs: a handover record's status is derived from its times (ownership lives on the
conversation row only)

Revision ID: 0007
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index('ix_handovers_status')
        batch_op.drop_column('status')
        batch_op.create_index('ix_handovers_open', ['ended_at', 'requested_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index('ix_handovers_open')
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False,
                                      server_default='ended'))
        batch_op.create_index('ix_handovers_status', ['status', 'requested_at'], unique=False)
    op.execute("UPDATE handovers SET status = CASE WHEN ended_at IS NOT NULL THEN 'ended' "
               "WHEN taken_at IS NOT NULL THEN 'agent' ELSE 'waiting' END")
