"""communities: many compounds under one Official Account; today's data moves into the first

Revision ID: 0008
Revises: 0006
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0006'
branch_labels = None
# The tables this revision changes come from the other branches of 0001.
depends_on = ('0002', '0003')

# table -> (nullable, unique constraint name, its columns after this revision)
OWNED = {
    'households': (False, 'uq_households_room_phone', ['community_id', 'room_key', 'phone']),
    'bills': (False, 'uq_bills_room_period_item', ['community_id', 'room_key', 'period', 'item']),
    'room_bindings': (False, 'uq_room_bindings_openid_room',
                      ['openid', 'community_id', 'room_key']),
    'tickets': (True, None, None),
    'handovers': (True, None, None),
    'residents': (True, None, None),
}
# Company-wide when NULL: existing rows stay company-wide.
SHARED = ('faq_entries', 'canned_replies')


def _first_community_values() -> dict:
    """The configured property (ServiceConfig) becomes the first community."""
    from core.config import ConfigError, HandoffConfig, ServiceConfig, load_config

    try:
        config = load_config()
        service, holidays = config.service, config.handoff.holidays
    except ConfigError:
        service, holidays = ServiceConfig(), HandoffConfig().holidays
    return {'code': service.community_code, 'name': service.property_name,
            'aliases': [], 'address': service.address, 'hotline': service.hotline,
            'emergency_phone': service.emergency_phone, 'weekday_hours': service.weekday_hours,
            'weekend_hours': service.weekend_hours, 'holidays': holidays,
            'duty_departments': [], 'active': True,
            'created_at': datetime.now(UTC)}


def upgrade() -> None:
    communities = op.create_table('communities',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('hotline', sa.String(length=32), nullable=False),
    sa.Column('emergency_phone', sa.String(length=32), nullable=False),
    sa.Column('weekday_hours', sa.String(length=16), nullable=False),
    sa.Column('weekend_hours', sa.String(length=16), nullable=False),
    sa.Column('holidays', sa.Text(), nullable=False),
    sa.Column('duty_departments', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('staff_communities',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'community_id')
    )
    op.create_table('faq_overrides',
    sa.Column('faq_id', sa.String(length=64), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('similar_questions', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['faq_id'], ['faq_entries.id'], ),
    sa.PrimaryKeyConstraint('faq_id', 'community_id')
    )
    for table in (*OWNED, *SHARED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('community_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_community_id'), ['community_id'],
                                  unique=False)
            batch_op.create_foreign_key(f'fk_{table}_community_id', 'communities',
                                        ['community_id'], ['id'])
    _move_existing_data(communities)
    for table, (nullable, unique, columns) in OWNED.items():
        if nullable:
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('community_id', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_constraint(unique, type_='unique')
            batch_op.create_unique_constraint(unique, columns)


def _move_existing_data(communities: sa.Table) -> None:
    """Rows from before communities existed all belong to the one property there was."""
    bind = op.get_bind()
    has_rows = any(bind.execute(sa.text(f'SELECT 1 FROM {table} LIMIT 1')).first()
                   for table in ('households', 'bills', 'room_bindings', 'tickets', 'handovers'))
    if not has_rows:
        return  # a fresh install: the first community is created at start-up
    op.bulk_insert(communities, [_first_community_values()])
    first_id = bind.execute(sa.text('SELECT MIN(id) FROM communities')).scalar_one()
    for table in ('households', 'bills', 'room_bindings', 'tickets', 'handovers'):
        bind.execute(sa.text(f'UPDATE {table} SET community_id = :id'), {'id': first_id})
    bind.execute(sa.text(
        'UPDATE residents SET community_id = :id WHERE openid IN '
        '(SELECT openid FROM room_bindings)'), {'id': first_id})


def downgrade() -> None:
    old_unique = {
        'households': ['room_key', 'phone'],
        'bills': ['room_key', 'period', 'item'],
        'room_bindings': ['openid', 'room_key'],
    }
    for table in (*OWNED, *SHARED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            unique = OWNED.get(table, (True, None, None))[1]
            if unique:
                batch_op.drop_constraint(unique, type_='unique')
                batch_op.create_unique_constraint(unique, old_unique[table])
            batch_op.drop_constraint(f'fk_{table}_community_id', type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_community_id'))
            batch_op.drop_column('community_id')
    op.drop_table('faq_overrides')
    op.drop_table('staff_communities')
    op.drop_table('communities')
