"""ratings in full: the stage rated, five dimensions, the item, window and staff rated, the
差评整改 case a poor rating started; cases.rate_invite_at for the invitation to rate

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ratings') as batch:
        batch.add_column(sa.Column('stage', sa.String(length=16), server_default='completed', nullable=False))
        batch.add_column(sa.Column('dimensions', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('item_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('window', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('rectification_case_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_ratings_item_id', 'catalogue_items', ['item_id'], ['id'])
        batch.create_foreign_key('fk_ratings_rectification_case_id', 'cases', ['rectification_case_id'], ['id'],
                                 ondelete='SET NULL')
    op.create_index('ix_ratings_window_at', 'ratings', ['window', 'at'], unique=False)
    # a case is rated once at 受理 and once at 办结, whatever two requests do at the same moment
    op.create_index('ux_ratings_case_stage', 'ratings', ['case_id', 'stage'], unique=True,
                    postgresql_where=sa.text("stage <> 'rectified'"), sqlite_where=sa.text("stage <> 'rectified'"))
    op.create_index('ix_ratings_unrectified', 'ratings', ['id'], unique=False,
                    postgresql_where=sa.text('level <= 2 AND rectification_case_id IS NULL'),
                    sqlite_where=sa.text('level <= 2 AND rectification_case_id IS NULL'))
    op.create_table('rating_staff',
                    sa.Column('rating_id', sa.Integer(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['rating_id'], ['ratings.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('rating_id', 'user_id'))
    op.create_index('ix_rating_staff_user', 'rating_staff', ['user_id', 'rating_id'], unique=False)
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('rate_invite_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_cases_rate_invite_at', 'cases', ['rate_invite_at'], unique=False,
                    postgresql_where=sa.text('rate_invite_at IS NOT NULL'),
                    sqlite_where=sa.text('rate_invite_at IS NOT NULL'))


def downgrade():
    op.drop_index('ix_cases_rate_invite_at', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('rate_invite_at')
    op.drop_index('ix_rating_staff_user', table_name='rating_staff')
    op.drop_table('rating_staff')
    op.drop_index('ix_ratings_unrectified', table_name='ratings')
    op.drop_index('ux_ratings_case_stage', table_name='ratings')
    op.drop_index('ix_ratings_window_at', table_name='ratings')
    with op.batch_alter_table('ratings') as batch:
        batch.drop_constraint('fk_ratings_rectification_case_id', type_='foreignkey')
        batch.drop_constraint('fk_ratings_item_id', type_='foreignkey')
        for column in ('rectification_case_id', 'window', 'item_id', 'dimensions', 'stage'):
            batch.drop_column(column)
