"""百分考核: the scheme's versions, the entries, the published quarters and their adjustments

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_schemes',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.Column('body', sa.JSON(), nullable=False),
                    sa.Column('saved_by', sa.String(length=64), nullable=False),
                    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('version'))
    op.create_table('assessment_entries',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('quarter', sa.String(length=8), nullable=False),
                    sa.Column('item', sa.String(length=16), nullable=False),
                    sa.Column('subject_kind', sa.String(length=8), nullable=False),
                    sa.Column('subject', sa.String(length=64), nullable=False),
                    sa.Column('points', sa.Double(), nullable=False),
                    sa.Column('reason', sa.String(length=500), nullable=False),
                    sa.Column('evidence_key', sa.String(length=128), nullable=True),
                    sa.Column('evidence_name', sa.String(length=200), nullable=True),
                    sa.Column('evidence_type', sa.String(length=64), nullable=True),
                    sa.Column('evidence_size', sa.BigInteger(), nullable=True),
                    sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
                    sa.Column('entered_by', sa.String(length=64), nullable=False),
                    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_assessment_entries_quarter', 'assessment_entries', ['quarter', 'id'], unique=False)
    op.create_table('assessment_publications',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('quarter', sa.String(length=8), nullable=False),
                    sa.Column('scheme_id', sa.Integer(), nullable=False),
                    sa.Column('scores', sa.JSON(), nullable=False),
                    sa.Column('published_by', sa.String(length=64), nullable=False),
                    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['scheme_id'], ['assessment_schemes.id']),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('quarter'))
    op.create_table('assessment_adjustments',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('publication_id', sa.Integer(), nullable=False),
                    sa.Column('subject_kind', sa.String(length=8), nullable=False),
                    sa.Column('subject', sa.String(length=64), nullable=False),
                    sa.Column('item', sa.String(length=16), nullable=False),
                    sa.Column('points', sa.Double(), nullable=False),
                    sa.Column('reason', sa.String(length=500), nullable=False),
                    sa.Column('adjusted_by', sa.String(length=64), nullable=False),
                    sa.Column('adjusted_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['publication_id'], ['assessment_publications.id'],
                                            ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_assessment_adjustments_publication', 'assessment_adjustments', ['publication_id', 'id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_assessment_adjustments_publication', table_name='assessment_adjustments')
    op.drop_table('assessment_adjustments')
    op.drop_table('assessment_publications')
    op.drop_index('ix_assessment_entries_quarter', table_name='assessment_entries')
    op.drop_table('assessment_entries')
    op.drop_table('assessment_schemes')
