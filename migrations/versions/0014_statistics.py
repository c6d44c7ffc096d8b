"""statistics: when a case was accepted (受理), the end event it finished at and the working
days it took; indexes by time for counting a period's cases, tasks, pauses and questions

Revision ID: 0014
Revises: 0013
"""
import json
import re

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_FROM = re.compile(r'name="caseTimeLimitFrom"\s+value="([^"]+)"')


def upgrade():
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('end_element', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('workdays_taken', sa.Double(), nullable=True))
    _fill_in()
    op.create_index('ix_cases_created', 'cases', ['created_at', 'item_id', 'status'], unique=False)
    op.create_index('ix_cases_accepted', 'cases', ['accepted_at', 'status', 'item_id'], unique=False,
                    postgresql_where=sa.text('accepted_at IS NOT NULL'),
                    sqlite_where=sa.text('accepted_at IS NOT NULL'))
    op.create_index('ix_cases_ended', 'cases', ['ended_at', 'status', 'process_id', 'end_element', 'item_id',
                                                'accepted_at', 'due_at', 'workdays_taken'], unique=False,
                    postgresql_where=sa.text('ended_at IS NOT NULL'), sqlite_where=sa.text('ended_at IS NOT NULL'))
    op.create_index('ix_tasks_completed_at', 'tasks', ['completed_at', 'status', 'due_at', 'completed_by_id',
                                                       'case_id', 'lane'], unique=False,
                    postgresql_include=['candidate_groups'],
                    postgresql_where=sa.text('completed_at IS NOT NULL'),
                    sqlite_where=sa.text('completed_at IS NOT NULL'))
    op.create_index('ix_pauses_started', 'pauses', ['started_at'], unique=False)
    op.create_index('ix_consultations_asked', 'consultations', ['asked_at', 'category', 'item_code'], unique=False)
    op.create_index('ix_ratings_stats', 'ratings', ['at', 'level', 'window', 'item_id', 'id'], unique=False)

def _fill_in():
    """Cases there already: the end event from their history; 受理 at the start for a process
    without `caseTimeLimitFrom`, else when the first task after that element was created
    (the element itself may be a gateway, which leaves no row). Working days taken are
    counted from now on only: the calendar is the engine's, not a migration's."""
    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE cases SET end_element = (SELECT e.element_id FROM events e WHERE e.case_id = cases.id "
        "AND e.action = 'ended' ORDER BY e.id DESC LIMIT 1) WHERE status = 'completed'"))
    versions = conn.execute(sa.text("SELECT id, main_file, files FROM process_versions")).all()
    counted_from = {}
    for vid, main, files in versions:
        files = json.loads(files) if isinstance(files, str) else files
        found = _FROM.search((files or {}).get(main, ""))
        if found:
            counted_from[vid] = found.group(1)
    plain = [vid for vid, *_ in versions if vid not in counted_from]
    if plain:
        conn.execute(sa.text("UPDATE cases SET accepted_at = created_at WHERE version_id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"ids": plain})
    for vid, element in counted_from.items():
        rows = conn.execute(sa.text("SELECT id, visited, ended_at FROM cases WHERE version_id = :v"), {"v": vid})
        for case_id, visited, ended_at in rows.all():
            visited = json.loads(visited) if isinstance(visited, str) else (visited or [])
            if element not in visited:
                continue
            after = visited[visited.index(element) + 1:]
            at = conn.execute(sa.text("SELECT min(created_at) FROM tasks WHERE case_id = :c AND element_id IN :els")
                              .bindparams(sa.bindparam("els", expanding=True)),
                              {"c": case_id, "els": after or [""]}).scalar()
            conn.execute(sa.text("UPDATE cases SET accepted_at = :at WHERE id = :c"),
                         {"at": at or ended_at, "c": case_id})


def downgrade():
    op.drop_index('ix_ratings_stats', table_name='ratings')
    op.drop_index('ix_consultations_asked', table_name='consultations')
    op.drop_index('ix_pauses_started', table_name='pauses')
    op.drop_index('ix_tasks_completed_at', table_name='tasks')
    op.drop_index('ix_cases_ended', table_name='cases')
    op.drop_index('ix_cases_accepted', table_name='cases')
    op.drop_index('ix_cases_created', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        for column in ('workdays_taken', 'end_element', 'accepted_at'):
            batch.drop_column(column)
