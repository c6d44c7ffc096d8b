"""calendar revisions: a change to the working calendar counts on every node at once

Each change to the calendar is a numbered revision, stored with the calendar as it was
before it; every transaction reads the latest number and a case keeps the number it was
counted under, so a case counted with an older calendar is counted again. Cases also
carry the provisional-year mark their tasks had (due_note) and the messages they wait for
(waiting); extensions name who granted them and for how many working days; a clock stop
is counted in working days; ratings (好差评) are kept apart from the case, which ends when
its result is issued.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_revisions',
                    sa.Column('revision', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('since', sa.Date(), nullable=False),
                    sa.Column('before', sa.JSON(), nullable=False),
                    sa.Column('changed_by', sa.String(length=64), nullable=False),
                    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('revision'))
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('calendar_revision', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('due_note', sa.String(length=256), nullable=True))
        batch.add_column(sa.Column('waiting', sa.JSON(), nullable=False, server_default='[]'))
    op.create_index('ix_cases_calendar_behind', 'cases', ['calendar_revision'], unique=False,
                    postgresql_where=sa.text("status = 'running'"), sqlite_where=sa.text("status = 'running'"))
    op.create_index('ix_cases_due_note', 'cases', ['due_note'], unique=False,
                    postgresql_where=sa.text("due_note IS NOT NULL"), sqlite_where=sa.text("due_note IS NOT NULL"))
    with op.batch_alter_table('accountability') as batch:
        batch.add_column(sa.Column('granted_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('days_granted', sa.Integer(), nullable=True))
    with op.batch_alter_table('pauses') as batch:
        batch.add_column(sa.Column('workdays', sa.Integer(), nullable=True))
    op.create_table('ratings',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('case_id', sa.Integer(), nullable=False),
                    sa.Column('level', sa.Integer(), nullable=False),
                    sa.Column('comment', sa.String(length=500), nullable=True),
                    sa.Column('channel', sa.String(length=16), nullable=False),
                    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
                    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id']),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_ratings_case', 'ratings', ['case_id', 'id'], unique=False)
    op.create_index('ix_ratings_at', 'ratings', ['at'], unique=False)


def downgrade():
    op.drop_table('ratings')
    with op.batch_alter_table('pauses') as batch:
        batch.drop_column('workdays')
    with op.batch_alter_table('accountability') as batch:
        batch.drop_column('days_granted')
        batch.drop_column('granted_by')
    op.drop_index('ix_cases_due_note', table_name='cases')
    op.drop_index('ix_cases_calendar_behind', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('waiting')
        batch.drop_column('due_note')
        batch.drop_column('calendar_revision')
    op.drop_table('calendar_revisions')
