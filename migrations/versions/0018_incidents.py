"""incidents: an automatic step that failed, retried with back-off, then left for a person;
the cases parked in status 'error' go on running, each with its open incident

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incidents',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('case_id', sa.Integer(), nullable=False),
                    sa.Column('process_id', sa.String(length=128), nullable=False),
                    sa.Column('element_id', sa.String(length=128), nullable=True),
                    sa.Column('message', sa.Text(), nullable=False),
                    sa.Column('data', sa.JSON(), nullable=True),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('next_retry_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('resolved_by', sa.String(length=64), nullable=True),
                    sa.Column('resolution', sa.String(length=16), nullable=True),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_incidents_case', 'incidents', ['case_id', 'id'], unique=False)
    op.create_index('ix_incidents_unresolved', 'incidents', ['process_id', 'id'], unique=False,
                    postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"))
    # a case parked in 'error' kept its last good state: it runs on, its failure an open incident
    conn = op.get_bind()
    conn.execute(sa.text(
        "INSERT INTO incidents (case_id, process_id, element_id, message, data, status, attempts, opened_at, last_at) "
        "SELECT id, process_id, NULL, COALESCE(error, 'failed'), NULL, 'open', 1, updated_at, updated_at "
        "FROM cases WHERE status = 'error'"))
    conn.execute(sa.text("UPDATE cases SET status = 'running' WHERE status = 'error'"))


def downgrade():
    op.drop_index('ix_incidents_unresolved', table_name='incidents')
    op.drop_index('ix_incidents_case', table_name='incidents')
    op.drop_table('incidents')
