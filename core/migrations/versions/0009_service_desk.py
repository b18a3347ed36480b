"""service desk: departments and staff, ticket work, SLA breaches, callbacks, quality, alerts

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# DOMAIN.md's departments and what each one handles.
DEPARTMENTS = [
    ('工程部', '水、电、电梯、门禁、管道、漏水、照明、墙面'),
    ('环境部', '保洁、垃圾、虫害、绿化'),
    ('安保部', '治安、停车、秩序、消防通道、夜间噪音'),
    ('客服部', '服务态度、综合事务、建议'),
    ('财务部', '账单、发票、缴费争议'),
]


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    departments = op.create_table('departments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('duties', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.bulk_insert(departments, [{'name': n, 'duties': d, 'active': True} for n, d in DEPARTMENTS])

    op.create_table('staff_members',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('is_head', sa.Boolean(), nullable=False),
    sa.Column('wechat_openid', sa.String(length=64), nullable=True),
    sa.Column('bound_at', _tz(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], ),
    sa.PrimaryKeyConstraint('user_id'),
    sa.UniqueConstraint('wechat_openid')
    )
    op.create_index('ix_staff_members_department_id', 'staff_members', ['department_id'])

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_at', _tz(), nullable=True))
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_responded_at', _tz(), nullable=True))
        batch_op.add_column(sa.Column('overdue', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_foreign_key('fk_tickets_assignee_id', 'console_users',
                                    ['assignee_id'], ['id'])
        batch_op.create_index('ix_tickets_assignee_id', ['assignee_id'], unique=False)

    op.create_table('ticket_photos',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('media_id', sa.String(length=128), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', _tz(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'media_id', name='uq_ticket_photos_media')
    )
    op.create_index('ix_ticket_photos_ticket_id', 'ticket_photos', ['ticket_id'])
    op.create_index('ix_ticket_photos_community_id', 'ticket_photos', ['community_id'])

    op.create_table('sla_breaches',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=4), nullable=False),
    sa.Column('raised_to', sa.String(length=4), nullable=True),
    sa.Column('due_at', _tz(), nullable=False),
    sa.Column('detected_at', _tz(), nullable=False),
    sa.Column('alerted', sa.JSON(), nullable=False),
    sa.Column('page_status', sa.String(length=16), nullable=True),
    sa.Column('page_attempts', sa.Integer(), nullable=False),
    sa.Column('paged_at', _tz(), nullable=True),
    sa.Column('page_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'kind', 'due_at', name='uq_sla_breach')
    )
    op.create_index('ix_sla_breaches_ticket_id', 'sla_breaches', ['ticket_id'])
    op.create_index('ix_sla_breaches_community_id', 'sla_breaches', ['community_id'])

    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=96), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('ticket_type', sa.String(length=24), nullable=True),
    sa.Column('openid', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('due_at', _tz(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reached', sa.Boolean(), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', _tz(), nullable=False),
    sa.Column('done_at', _tz(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['console_users.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    op.create_index('ix_callbacks_status_due', 'callbacks', ['status', 'due_at'])
    op.create_index('ix_callbacks_community_id', 'callbacks', ['community_id'])
    op.create_index('ix_callbacks_ticket_id', 'callbacks', ['ticket_id'])
    op.create_index('ix_callbacks_openid', 'callbacks', ['openid'])

    op.create_table('quality_reviews',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', _tz(), nullable=False),
    sa.Column('reviewed_at', _tz(), nullable=True),
    sa.Column('seen_at', _tz(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['console_users.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['console_users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('handover_id')
    )
    op.create_index('ix_quality_reviews_community_id', 'quality_reviews', ['community_id'])
    op.create_index('ix_quality_reviews_openid', 'quality_reviews', ['openid'])
    op.create_index('ix_quality_reviews_agent_id', 'quality_reviews', ['agent_id'])

    op.create_table('console_alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('ticket_number', sa.String(length=32), nullable=True),
    sa.Column('created_at', _tz(), nullable=False),
    sa.Column('read_at', _tz(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_console_alerts_user_read', 'console_alerts', ['user_id', 'read_at'])


def downgrade() -> None:
    op.drop_table('console_alerts')
    op.drop_table('quality_reviews')
    op.drop_table('callbacks')
    op.drop_table('sla_breaches')
    op.drop_table('ticket_photos')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_assignee_id')
        batch_op.drop_constraint('fk_tickets_assignee_id', type_='foreignkey')
        batch_op.drop_column('overdue')
        batch_op.drop_column('first_responded_at')
        batch_op.drop_column('assignee_id')
        batch_op.drop_column('paused_at')
    op.drop_table('staff_members')
    op.drop_table('departments')
