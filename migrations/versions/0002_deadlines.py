"""deadlines, clock stops, calendar, accountability, notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 16:27:19.358047

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('workday', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=128), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('accountability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('person', sa.String(length=64), nullable=True),
    sa.Column('days_over', sa.Double(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('accountability', schema=None) as batch_op:
        batch_op.create_index('ix_accountability_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_accountability_case_id'), ['case_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=512), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at', 'id'], unique=False)

    op.create_table('pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=128), nullable=False),
    sa.Column('element_id', sa.String(length=128), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=64), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=64), nullable=True),
    sa.Column('working_seconds', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pauses', schema=None) as batch_op:
        batch_op.create_index('ix_pauses_case', ['case_id', 'started_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_reason', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('paused_element', sa.String(length=128), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=256), nullable=True))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warning', sa.String(length=8), nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('escalation', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_alert_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_note', sa.String(length=256), nullable=True))
        batch_op.create_index(batch_op.f('ix_tasks_next_alert_at'), ['next_alert_at'], unique=False)
        batch_op.create_index('ix_tasks_due_note', ['due_note'], unique=False,
                              postgresql_where=sa.text('due_note IS NOT NULL'),
                              sqlite_where=sa.text('due_note IS NOT NULL'))




def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')
    
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_due_note')
        batch_op.drop_index(batch_op.f('ix_tasks_next_alert_at'))
        batch_op.drop_column('due_note')
        batch_op.drop_column('next_alert_at')
        batch_op.drop_column('escalation')
        batch_op.drop_column('warning')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('paused_element')
        batch_op.drop_column('paused_reason')
        batch_op.drop_column('paused_since')
        batch_op.drop_column('due_at')

    with op.batch_alter_table('pauses', schema=None) as batch_op:
        batch_op.drop_index('ix_pauses_case')

    op.drop_table('pauses')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    with op.batch_alter_table('accountability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accountability_case_id'))
        batch_op.drop_index('ix_accountability_at')

    op.drop_table('accountability')
    op.drop_table('calendar_years')
    op.drop_table('calendar_days')

