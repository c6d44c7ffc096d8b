"""queue counts: each group's number of queued tasks, kept by the queue's writers

The navigation bar and the inbox show how many unclaimed tasks each of one's groups
has; counting a group's queue took milliseconds per page once it held tens of
thousands of rows. The count is now kept in a row per group.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('queue_counts',
                    sa.Column('group_name', sa.String(length=64), nullable=False),
                    sa.Column('queued', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('group_name'))
    op.execute("INSERT INTO queue_counts (group_name, queued) "
               "SELECT group_name, count(*) FROM task_queue GROUP BY group_name")


def downgrade():
    op.drop_table('queue_counts')
