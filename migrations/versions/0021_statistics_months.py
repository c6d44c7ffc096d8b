"""statistics_months: the figures of closed months, kept once nothing they count can change

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statistics_months',
                    sa.Column('month', sa.String(length=7), nullable=False),
                    sa.Column('source', sa.String(length=32), nullable=False),
                    sa.Column('by', sa.String(length=16), nullable=False),
                    sa.Column('rows', sa.JSON(), nullable=False),
                    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('month', 'source', 'by'))


def downgrade():
    op.drop_table('statistics_months')
