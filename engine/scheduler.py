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
          housekeeping: Callable[[], None] | None = None) -> BackgroundScheduler:
    """Run `fire()` (which fires due timers and returns how many) every `interval` s, and
    `housekeeping()` (database upkeep) every second."""

    def job():
        try:
            while fire() > 0:  # keep going while a batch was full of due cases
                pass
        except Exception:
            log.exception("timer job failed")

    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1), "housekeeping": ThreadPoolExecutor(1)},
                                    timezone="UTC")
    scheduler.add_job(job, "interval", seconds=interval, id="hall-timers", max_instances=1, coalesce=True,
                      next_run_time=clock.now())
    if housekeeping is not None:
        scheduler.add_job(housekeeping, "interval", seconds=1, id="hall-housekeeping", max_instances=1,
                          coalesce=True, executor="housekeeping")
    scheduler.start()
    return scheduler
