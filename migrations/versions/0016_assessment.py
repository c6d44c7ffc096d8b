"""百分考核: the scheme, its entries, the published quarters (filled in with the assessment)

Revision ID: 0016
Revises: 0015
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
