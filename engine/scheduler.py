"""Timers fire from APScheduler, by next due time.

One job looks for cases whose `next_timer_at` has come (an index range: its cost grows with
what is due, not with what waits) every `interval` seconds and fires them. The job runs as
soon as the scheduler starts, so what fell due while the server was down fires at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from engine import clock

log = logging.getLogger("hall.scheduler")
# A run that finds the previous one still firing is skipped by design (max_instances=1);
# APScheduler would call each such skip a warning.
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)


def start(fire: Callable[[], int], interval: float = 0.5,
          housekeeping: Callable[[], None] | None = None,
          moves: Callable[[], int] | None = None,
          statistics: Callable[[], int] | None = None) -> BackgroundScheduler:
    """Run `fire()` (which fires due timers and returns how many) every `interval` s,
    `housekeeping()` (database upkeep) every second, `moves()` (which moves cases to another
    version and returns how many, engine.moves) every second, and `statistics()` (which keeps
    closed months' figures and returns how many, engine.statistics) at start and every ten
    minutes, each on a thread of its own: a long move or a year of history to keep holds up
    neither timers nor upkeep."""

    def until_done(work: Callable[[], int], name: str) -> Callable[[], None]:
        def run():
            try:
                while work() > 0:  # keep going while a batch did something
                    pass
            except Exception:
                log.exception("%s job failed", name)
        return run

    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1), "housekeeping": ThreadPoolExecutor(1),
                                               "moves": ThreadPoolExecutor(1), "statistics": ThreadPoolExecutor(1)},
                                    timezone="UTC")
    scheduler.add_job(until_done(fire, "timer"), "interval", seconds=interval, id="hall-timers", max_instances=1,
                      coalesce=True, next_run_time=clock.now())
    if housekeeping is not None:
        scheduler.add_job(housekeeping, "interval", seconds=1, id="hall-housekeeping", max_instances=1,
                          coalesce=True, executor="housekeeping")
    if moves is not None:
        scheduler.add_job(until_done(moves, "move"), "interval", seconds=1, id="hall-moves", max_instances=1,
                          coalesce=True, executor="moves")
    if statistics is not None:
        scheduler.add_job(until_done(statistics, "statistics"), "interval", minutes=10, id="hall-statistics",
                          max_instances=1, coalesce=True, executor="statistics", next_run_time=clock.now())
    scheduler.start()
    return scheduler
