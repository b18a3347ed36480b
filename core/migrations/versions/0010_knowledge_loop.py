"""knowledge loop: FAQ history and validity, unanswered queue, feedback, training jobs,
notices, menu versions, welcome card

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scan_cursors',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('answer_feedback',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('faq_id', sa.String(length=64), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('asked', sa.Boolean(), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('answer_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_feedback_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answer_feedback_faq_id'), ['faq_id'], unique=False)
        batch_op.create_index('ix_answer_feedback_openid', ['openid', 'id'], unique=False)

    op.create_table('faq_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('faq_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('faq_id', 'version', name='uq_faq_versions_faq_version')
    )
    with op.batch_alter_table('faq_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_versions_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_faq_versions_faq_id'), ['faq_id'], unique=False)

    op.create_table('menu_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('keys', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('push_error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('menu_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_menu_versions_community_id'), ['community_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('target_value', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_community_id'), ['community_id'], unique=False)

    op.create_table('training_jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=False),
    sa.Column('force', sa.Boolean(), nullable=False),
    sa.Column('candidate', sa.Text(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_jobs_community_id'), ['community_id'], unique=False)

    op.create_table('unanswered_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('faq_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolution', sa.String(length=64), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', 'reason', name='uq_unanswered_message_reason')
    )
    with op.batch_alter_table('unanswered_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unanswered_items_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_unanswered_status', ['status', 'id'], unique=False)

    op.create_table('welcome_cards',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('faq_ids', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id')
    )
    op.create_table('notice_deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('report', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'openid', name='uq_notice_openid')
    )
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_deliveries_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_deliveries_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_deliveries_outbox_id'), ['outbox_id'], unique=False)

    with op.batch_alter_table('faq_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wechat_msgid', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_wechat_msgid'), ['wechat_msgid'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_wechat_msgid'))
        batch_op.drop_column('wechat_msgid')

    with op.batch_alter_table('faq_entries', schema=None) as batch_op:
        batch_op.drop_column('valid_until')
        batch_op.drop_column('valid_from')

    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_deliveries_outbox_id'))
        batch_op.drop_index(batch_op.f('ix_notice_deliveries_notice_id'))
        batch_op.drop_index(batch_op.f('ix_notice_deliveries_community_id'))

    op.drop_table('notice_deliveries')
    op.drop_table('welcome_cards')
    with op.batch_alter_table('unanswered_items', schema=None) as batch_op:
        batch_op.drop_index('ix_unanswered_status')
        batch_op.drop_index(batch_op.f('ix_unanswered_items_community_id'))

    op.drop_table('unanswered_items')
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_jobs_community_id'))

    op.drop_table('training_jobs')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_community_id'))

    op.drop_table('notices')
    with op.batch_alter_table('menu_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_menu_versions_community_id'))

    op.drop_table('menu_versions')
    with op.batch_alter_table('faq_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_versions_faq_id'))
        batch_op.drop_index(batch_op.f('ix_faq_versions_community_id'))

    op.drop_table('faq_versions')
    with op.batch_alter_table('answer_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_feedback_openid')
        batch_op.drop_index(batch_op.f('ix_answer_feedback_faq_id'))
        batch_op.drop_index(batch_op.f('ix_answer_feedback_community_id'))

    op.drop_table('answer_feedback')
    op.drop_table('scan_cursors')
