"""a case keeps the catalogue item (the exact version) it was filed under, and its channel

`item_id` names the version of the item whose terms the case was accepted under (its
limit, whether it is a 即办件, the materials the window checks); `channel` says where it
was filed: "online" (the portal or the API: 网上预审 first) or "counter" (a walk-in at the
window: straight to 受理).

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('item_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('channel', sa.String(length=16), nullable=False, server_default='online'))
        batch.create_foreign_key('fk_cases_item_id', 'catalogue_items', ['item_id'], ['id'])
        batch.create_index('ix_cases_item', ['item_id', 'created_at'],
                           postgresql_where=sa.text('item_id IS NOT NULL'), sqlite_where=sa.text('item_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('cases') as batch:
        batch.drop_index('ix_cases_item')
        batch.drop_constraint('fk_cases_item_id', type_='foreignkey')
        batch.drop_column('channel')
        batch.drop_column('item_id')
