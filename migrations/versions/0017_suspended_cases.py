"""cases.suspended_at and suspended_reason: a case a coordinator suspended (挂起)

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('suspended_reason', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('suspended_reason')
        batch.drop_column('suspended_at')
