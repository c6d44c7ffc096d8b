"""the service catalogue: items (事项) and their versions

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalogue_items',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('code', sa.String(length=32), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.Column('name', sa.String(length=200), nullable=False),
                    sa.Column('category', sa.String(length=16), nullable=False),
                    sa.Column('departments', sa.JSON(), nullable=False),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('legal_days', sa.Integer(), nullable=False),
                    sa.Column('promised_days', sa.Integer(), nullable=False),
                    sa.Column('materials', sa.JSON(), nullable=False),
                    sa.Column('fees', sa.JSON(), nullable=False),
                    sa.Column('place', sa.String(length=200), nullable=False),
                    sa.Column('hours', sa.String(length=200), nullable=False),
                    sa.Column('phone', sa.String(length=32), nullable=False),
                    sa.Column('basis', sa.String(length=2000), nullable=False),
                    sa.Column('process_id', sa.String(length=128), nullable=True),
                    sa.Column('online', sa.Boolean(), nullable=False),
                    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('saved_by', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('code', 'version', name='uq_catalogue_items_code_version'))


def downgrade():
    op.drop_table('catalogue_items')
