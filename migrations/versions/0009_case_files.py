"""case files: the materials attached to a case, in versions, their bytes in the file store

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_files',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('case_id', sa.Integer(), nullable=False),
                    sa.Column('material', sa.String(length=200), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.Column('filename', sa.String(length=200), nullable=False),
                    sa.Column('content_type', sa.String(length=64), nullable=False),
                    sa.Column('size', sa.BigInteger(), nullable=False),
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('storage_key', sa.String(length=128), nullable=False),
                    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
                    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('case_id', 'material', 'version', name='uq_case_files_material_version'))


def downgrade():
    op.drop_table('case_files')
