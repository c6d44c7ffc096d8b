"""case_moves, case_move_items: running cases moved to another version of their process

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_moves',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('process_id', sa.String(length=128), nullable=False),
                    sa.Column('from_version', sa.Integer(), nullable=True),
                    sa.Column('element_id', sa.String(length=128), nullable=True),
                    sa.Column('to_version_id', sa.Integer(), nullable=False),
                    sa.Column('to_version', sa.Integer(), nullable=False),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('created_by', sa.String(length=64), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
                    sa.ForeignKeyConstraint(['to_version_id'], ['process_versions.id']),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_case_moves_process', 'case_moves', ['process_id', 'id'], unique=False)
    op.create_table('case_move_items',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('move_id', sa.Integer(), nullable=False),
                    sa.Column('case_id', sa.Integer(), nullable=False),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('reason', sa.String(length=1000), nullable=True),
                    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
                    sa.ForeignKeyConstraint(['move_id'], ['case_moves.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('move_id', 'case_id'))
    op.create_index('ix_case_move_items_status', 'case_move_items', ['move_id', 'status', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_case_move_items_status', table_name='case_move_items')
    op.drop_table('case_move_items')
    op.drop_index('ix_case_moves_process', table_name='case_moves')
    op.drop_table('case_moves')
