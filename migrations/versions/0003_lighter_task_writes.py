"""lighter task writes: partial indexes on tasks, task_queue without rowid on SQLite

Every completion and every new task wrote index entries for columns that most rows
leave empty: an open task has no completer, an unclaimed one no assignee, most have
no alert time. Those indexes now hold only the rows that have a value (each query on
them asks for a value, which implies it). On SQLite the task queue keeps its rows in
its primary key alone instead of a rowid table beside it.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

PARTIAL = (
    ('ix_tasks_assignee_open', ['assignee_id', 'status', 'created_at'], 'assignee_id'),
    ('ix_tasks_done_by', ['completed_by_id', 'completed_at'], 'completed_by_id'),
    ('ix_tasks_next_alert_at', ['next_alert_at'], 'next_alert_at'),
)


def _task_queue(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return  # PostgreSQL has no rowid table to spare
    op.drop_index('ix_task_queue_task_id', table_name='task_queue')
    op.rename_table('task_queue', 'task_queue_old')
    op.execute(
        "CREATE TABLE task_queue (group_name VARCHAR(64) NOT NULL, rank_at DATETIME NOT NULL, "
        "created_at DATETIME NOT NULL, task_id INTEGER NOT NULL, "
        "PRIMARY KEY (group_name, rank_at, created_at, task_id), "
        "FOREIGN KEY(task_id) REFERENCES tasks (id) ON DELETE CASCADE)" + ("" if with_rowid else " WITHOUT ROWID"))
    op.execute("INSERT INTO task_queue SELECT group_name, rank_at, created_at, task_id FROM task_queue_old")
    op.drop_table('task_queue_old')
    op.create_index('ix_task_queue_task_id', 'task_queue', ['task_id'], unique=False)


def upgrade():
    for name, columns, column in PARTIAL:
        op.drop_index(name, table_name='tasks')
        op.create_index(name, 'tasks', columns, unique=False,
                        postgresql_where=sa.text(f'{column} IS NOT NULL'),
                        sqlite_where=sa.text(f'{column} IS NOT NULL'))
    _task_queue(with_rowid=False)


def downgrade():
    _task_queue(with_rowid=True)
    for name, columns, _column in PARTIAL:
        op.drop_index(name, table_name='tasks')
        op.create_index(name, 'tasks', columns, unique=False)
