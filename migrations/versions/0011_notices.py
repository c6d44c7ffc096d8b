"""notices: the printed notices issued for a case, kept as issued (what they say, then their PDF)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notices',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('case_id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('title', sa.String(length=64), nullable=False),
                    sa.Column('facts', sa.JSON(), nullable=False),
                    sa.Column('storage_key', sa.String(length=128), nullable=True),
                    sa.Column('size', sa.Integer(), nullable=True),
                    sa.Column('sha256', sa.String(length=64), nullable=True),
                    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('issued_by', sa.String(length=64), nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_notices_case', 'notices', ['case_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_notices_case', table_name='notices')
    op.drop_table('notices')
