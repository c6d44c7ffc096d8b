"""企业之家: enterprises and their accounts, the cases filed for them, drafts, 网上咨询

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _only(condition):
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def upgrade():
    op.create_table('enterprises',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('credit_code', sa.String(length=18), nullable=False),
                    sa.Column('name', sa.String(length=100), nullable=False),
                    sa.Column('contact_name', sa.String(length=50), nullable=True),
                    sa.Column('phone', sa.String(length=20), nullable=True),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('credit_code'))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('enterprise_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_users_enterprise_id', 'enterprises', ['enterprise_id'], ['id'])
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('enterprise_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_cases_enterprise_id', 'enterprises', ['enterprise_id'], ['id'])
        batch.create_index('ix_cases_enterprise', ['enterprise_id', 'id'], **_only('enterprise_id IS NOT NULL'))
    op.create_table('drafts',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('enterprise_id', sa.Integer(), nullable=True),
                    sa.Column('item_code', sa.String(length=32), nullable=False),
                    sa.Column('data', sa.JSON(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id']),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_drafts_user', 'drafts', ['user_id', 'updated_at'], unique=False)
    with op.batch_alter_table('case_files') as batch:
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('draft_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_case_files_draft_id', 'drafts', ['draft_id'], ['id'], ondelete='CASCADE')
        batch.create_index('ix_case_files_draft', ['draft_id'], **_only('draft_id IS NOT NULL'))
    op.create_table('consultations',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('item_code', sa.String(length=32), nullable=False),
                    sa.Column('category', sa.String(length=16), nullable=False),
                    sa.Column('question', sa.String(length=2000), nullable=False),
                    sa.Column('asked_by_id', sa.Integer(), nullable=False),
                    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('answer', sa.String(length=4000), nullable=True),
                    sa.Column('answered_by', sa.String(length=64), nullable=True),
                    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
                    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_consultations_asker', 'consultations', ['asked_by_id', 'id'], unique=False)
    op.create_index('ix_consultations_open', 'consultations', ['category', 'id'], **_only('answered_at IS NULL'))


def downgrade():
    op.drop_table('consultations')
    with op.batch_alter_table('case_files') as batch:
        batch.drop_index('ix_case_files_draft')
        batch.drop_constraint('fk_case_files_draft_id', type_='foreignkey')
        batch.drop_column('draft_id')
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index('ix_drafts_user', table_name='drafts')
    op.drop_table('drafts')
    with op.batch_alter_table('cases') as batch:
        batch.drop_index('ix_cases_enterprise')
        batch.drop_constraint('fk_cases_enterprise_id', type_='foreignkey')
        batch.drop_column('enterprise_id')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('fk_users_enterprise_id', type_='foreignkey')
        batch.drop_column('enterprise_id')
    op.drop_table('enterprises')
