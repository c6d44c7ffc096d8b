"""complaints (意见建议/投诉) and 回访: the complaint each complaint case is, the rounds of return
visits and each visit

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaints',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('case_id', sa.Integer(), nullable=False),
                    sa.Column('channel', sa.String(length=16), nullable=False),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('subject', sa.String(length=100), nullable=False),
                    sa.Column('content', sa.String(length=2000), nullable=False),
                    sa.Column('contact_name', sa.String(length=50), nullable=True),
                    sa.Column('contact_phone', sa.String(length=20), nullable=True),
                    sa.Column('entered_by_id', sa.Integer(), nullable=False),
                    sa.Column('enterprise_id', sa.Integer(), nullable=True),
                    sa.Column('about_case_id', sa.Integer(), nullable=True),
                    sa.Column('about_task_id', sa.Integer(), nullable=True),
                    sa.Column('department', sa.String(length=64), nullable=True),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('finding', sa.String(length=16), nullable=True),
                    sa.Column('responsible', sa.String(length=64), nullable=True),
                    sa.Column('responsible_task_id', sa.Integer(), nullable=True),
                    sa.Column('reply', sa.String(length=2000), nullable=True),
                    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id']),
                    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id']),
                    sa.ForeignKeyConstraint(['about_case_id'], ['cases.id'], ondelete='SET NULL'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('case_id'))
    op.create_index('ix_complaints_entered_by', 'complaints', ['entered_by_id', 'status'], unique=False)
    op.create_index('ix_complaints_department', 'complaints', ['department', 'id'], unique=False)
    op.create_index('ix_complaints_status', 'complaints', ['status', 'id'], unique=False)
    op.create_table('visit_rounds',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('title', sa.String(length=100), nullable=False),
                    sa.Column('period_from', sa.Date(), nullable=False),
                    sa.Column('period_until', sa.Date(), nullable=False),
                    sa.Column('sample', sa.String(length=8), nullable=False),
                    sa.Column('sample_size', sa.Integer(), nullable=True),
                    sa.Column('created_by', sa.String(length=64), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_table('visits',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('round_id', sa.Integer(), nullable=False),
                    sa.Column('enterprise_id', sa.Integer(), nullable=False),
                    sa.Column('served_case_id', sa.Integer(), nullable=True),
                    sa.Column('served_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('department', sa.String(length=64), nullable=True),
                    sa.Column('case_id', sa.Integer(), nullable=True),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.Column('satisfaction', sa.Integer(), nullable=True),
                    sa.Column('suggestion', sa.String(length=2000), nullable=True),
                    sa.Column('complaint_id', sa.Integer(), nullable=True),
                    sa.Column('visited_by', sa.String(length=64), nullable=True),
                    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=True),
                    sa.ForeignKeyConstraint(['round_id'], ['visit_rounds.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id']),
                    sa.ForeignKeyConstraint(['served_case_id'], ['cases.id'], ondelete='SET NULL'),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='SET NULL'),
                    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ondelete='SET NULL'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('case_id'),
                    sa.UniqueConstraint('round_id', 'enterprise_id', name='uq_visits_round_enterprise'))
    op.create_index('ix_visits_served_at', 'visits', ['served_at'], unique=False)


def downgrade():
    op.drop_index('ix_visits_served_at', table_name='visits')
    op.drop_table('visits')
    op.drop_table('visit_rounds')
    op.drop_index('ix_complaints_status', table_name='complaints')
    op.drop_index('ix_complaints_department', table_name='complaints')
    op.drop_index('ix_complaints_entered_by', table_name='complaints')
    op.drop_table('complaints')
