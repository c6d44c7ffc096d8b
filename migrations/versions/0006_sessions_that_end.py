"""sessions that end: page sessions kept on the server, sign-in throttling, start keys

A page session is a row like an API token (kind "page"): signing out deletes it, so an
old cookie is dead at once, and so are a user's sessions and tokens when the password
changes or the user is deactivated. Wrong passwords are counted by account and address
in the database, so that every node throttles alike. A case started with an
Idempotency-Key keeps the key, so that a retried start answers with the first case.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=8), nullable=False, server_default='api'))
    op.create_table('login_failures',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('username', sa.String(length=64), nullable=False),
                    sa.Column('address', sa.String(length=64), nullable=False),
                    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_login_failures_username', 'login_failures', ['username', 'at'], unique=False)
    op.create_index('ix_login_failures_address', 'login_failures', ['address', 'at'], unique=False)
    op.create_table('start_keys',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('key', sa.String(length=128), nullable=False),
                    sa.Column('request', sa.String(length=64), nullable=False),
                    sa.Column('case_id', sa.Integer(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('user_id', 'key', name='uq_start_keys_user_key'))


def downgrade():
    op.drop_table('start_keys')
    op.drop_table('login_failures')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('kind')
