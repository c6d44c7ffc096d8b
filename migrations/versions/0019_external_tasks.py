"""external_tasks: the work of external serviceTasks, fetched and locked by other systems' workers

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('external_tasks',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('case_id', sa.Integer(), nullable=False),
                    sa.Column('spiff_id', sa.String(length=36), nullable=False),
                    sa.Column('process_id', sa.String(length=128), nullable=False),
                    sa.Column('element_id', sa.String(length=128), nullable=False),
                    sa.Column('topic', sa.String(length=100), nullable=False),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('worker_id', sa.String(length=128), nullable=True),
                    sa.Column('lock_expires_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('retries', sa.Integer(), nullable=True),
                    sa.Column('error_message', sa.String(length=1000), nullable=True),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_external_tasks_case', 'external_tasks', ['case_id'], unique=False)
    op.create_index('ix_external_tasks_fetch', 'external_tasks', ['topic', 'id'], unique=False,
                    postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))


def downgrade():
    op.drop_index('ix_external_tasks_fetch', table_name='external_tasks')
    op.drop_index('ix_external_tasks_case', table_name='external_tasks')
    op.drop_table('external_tasks')
