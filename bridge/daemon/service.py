"""``centra-bridge run``: the long-running service, APScheduler jobs under a supervising thread.

The main thread owns signals, sd_notify and shutdown; jobs run on APScheduler's worker threads.
A signal handler only sets an event and logs one line (a second SIGTERM/SIGINT exits at
once; see ``bridge.daemon.signals``). On stop, the
scheduler is shut down with ``wait=True``: the page in flight is stored and acknowledged,
no new work starts, and the process exits 0. SIGHUP reloads the configuration file: running
jobs finish, then the jobs start again with the new settings (the database stays the same).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url

from bridge.app import App
from bridge.clock import utcnow
from bridge.config import ConfigError, Settings
from bridge.daemon import signals
from bridge.daemon.health import Health
from bridge.daemon.jobs import Jobs
from bridge.daemon.metrics import Metrics
from bridge.daemon.metrics_server import MetricsServer
from bridge.daemon.notify import Notifier
from bridge.errors import ExitCode
from bridge.store.lock import StoreLock, held
from bridge.web.users import Users, load_users

if TYPE_CHECKING:
    from bridge.web.server import ConsoleServer

log = structlog.get_logger(__name__)

#: The supervisor wakes at least this often (STATUS=, lock check, reload request).
TICK_S = 1.0
#: How often a standby tries the lock, at most.
STANDBY_RETRY_S = 5.0
#: How often STATUS= and the store gauges are refreshed, at most.
HEALTH_EVERY_S = 5.0


def run(
    settings: Settings,
    *,
    load: Callable[[], Settings],
    standby: bool = False,
    notifier: Notifier | None = None,
) -> int:
    """Poll Centra until SIGTERM/SIGINT; ``load`` re-reads the configuration on SIGHUP.

    Raises ``LockHeld`` when another process polls the same store and ``standby`` is off.
    """
    notifier = notifier or Notifier.from_environ()
    with signals.handled(reload=True) as control:
        wait = partial(
            _standby, control=control, notifier=notifier, poll_s=settings.schedule.poll_s
        )
        with held(settings.database.url, wait=wait if standby else None) as lock:
            if lock is None:
                log.info("stopped while in standby", signal=control.signal_name)
                return ExitCode.OK
            return _serve(settings, load, lock, control, notifier)


def _standby(
    lock: StoreLock, *, control: signals.Control, notifier: Notifier, poll_s: float
) -> bool:
    """Wait for another process to let go of the store's lock; False if stopped first."""
    log.info(
        "standby: another centra-bridge polls this store; waiting for it to stop",
        lock=lock.where,
        holder=lock.holder(),
    )
    notifier.ready(f"standby: waiting for {lock.where}")
    retry_s = min(STANDBY_RETRY_S, poll_s, _tick(notifier))
    while not control.stop.wait(retry_s):
        notifier.watchdog()  # a waiting standby is doing exactly its job
        if lock.acquire():
            log.info("lock acquired; this process polls the store now", lock=lock.where)
            return True
    return False


def _serve(
    settings: Settings,
    load: Callable[[], Settings],
    lock: StoreLock,
    control: signals.Control,
    notifier: Notifier,
) -> int:
    metrics = Metrics()
    health = Health()
    server = _metrics_server(settings, metrics)
    # Read once here (a broken file fails the start) and again only by a reload that works.
    users = load_users(settings.web) if settings.web.port else None
    try:
        while True:
            why = _generation(settings, users, lock, control, notifier, metrics, health)
            if why != "reload":
                return ExitCode.OK if why == "stop" else ExitCode.DATABASE
            settings, users = _reloaded(settings, users, load)
    finally:
        if server is not None:
            server.stop()


def _generation(
    settings: Settings,
    users: Users | None,
    lock: StoreLock,
    control: signals.Control,
    notifier: Notifier,
    metrics: Metrics,
    health: Health,
) -> str:
    """Run the jobs of one configuration until a stop, a reload or a lost lock; say which."""
    app = App.open(settings, centra_calls=metrics.centra_call)
    console: ConsoleServer | None = None
    try:
        app.client  # noqa: B018 (load the WSDL now: a broken install fails before READY)
        # Beside the jobs, on this generation's App: a reload serves the new settings.
        console = _console(app, settings, users) if users else None
        jobs = Jobs(app, settings.schedule, control.stop, metrics, health, lock=lock)
        scheduler = _scheduler(jobs, settings)
        scheduler.start()
        log.info(
            "running",
            poll_s=settings.schedule.poll_s,
            database=_where(settings),
            endpoint=settings.centra.endpoint,
            lock=lock.where,
        )
        notifier.ready("started; " + health.describe(utcnow()))
        try:
            why = _supervise(settings, lock, control, notifier, health)
        finally:
            notifier.stopping(f"{why}: finishing the work in flight")
            scheduler.shutdown(wait=True)
        log.info("jobs stopped", reason=why, signal=control.signal_name or None)
        return why
    finally:
        if console is not None:
            console.stop()
        app.close()


def _supervise(
    settings: Settings,
    lock: StoreLock,
    control: signals.Control,
    notifier: Notifier,
    health: Health,
) -> str:
    """Feed the watchdog while the poll loop progresses; return why the jobs must stop."""
    stall_after_s = settings.schedule.stall_after_s
    stalled = False
    shown = ""
    while not control.stop.wait(_tick(notifier)):
        if control.reload.is_set():
            control.reload.clear()
            return "reload"
        if not lock.healthy():
            log.error(
                "lost the store's lock (connection gone, or lock file removed): nothing more is "
                "acknowledged; stopping",
                lock=lock.where,
            )
            return "lock lost"
        if health.lost is not None:
            log.error("the store is not the one this process opened; stopping", error=health.lost)
            return "store lost"
        idle_s = health.stalled_for()
        if idle_s < stall_after_s:
            notifier.watchdog()
        if stalled != (idle_s >= stall_after_s):
            stalled = not stalled
            if stalled:
                log.error(
                    "poll loop made no progress; no longer feeding the watchdog",
                    idle_s=round(idle_s, 1),
                    stall_after_s=stall_after_s,
                )
            else:
                log.info("poll loop progressing again")
        text = health.describe(utcnow())
        if text != shown:
            notifier.status(text)
            shown = text
    return "stop"


def _tick(notifier: Notifier) -> float:
    """Wake often enough to send WATCHDOG=1 at least twice per systemd's watchdog period."""
    if notifier.watchdog_s is None:
        return TICK_S
    return min(TICK_S, notifier.watchdog_s / 4)


def _scheduler(jobs: Jobs, settings: Settings) -> BackgroundScheduler:
    """Every job: one instance at a time, missed runs folded into one, late runs skipped once
    they are a whole interval late (the next one is due by then anyway)."""
    schedule = settings.schedule
    scheduler = BackgroundScheduler(
        timezone="UTC", executors={"default": ThreadPoolExecutor(max_workers=4)}
    )
    now = utcnow()
    every = (
        (jobs.poll, schedule.poll_s, schedule.poll_jitter_s, now),
        (jobs.retry, schedule.retry_s, 0.0, now + timedelta(seconds=schedule.retry_s)),
        (jobs.push, schedule.push_s, 0.0, now),
        (jobs.housekeeping, schedule.housekeeping_s, 0.0, now),
        (jobs.refresh, min(HEALTH_EVERY_S, schedule.poll_s), 0.0, now),
    )
    for job, interval_s, jitter_s, first in every:
        scheduler.add_job(
            job,
            IntervalTrigger(seconds=interval_s, jitter=jitter_s or None, timezone="UTC"),
            id=job.__name__,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, math.ceil(interval_s)),
            next_run_time=first,
        )
    scheduler.add_listener(_on_job_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def _on_job_event(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning(
            "job run missed (the process was busy or suspended)",
            job_id=event.job_id,
            scheduled=event.scheduled_run_time.isoformat(),
        )
    else:  # still running from the last tick: a long drain, not a fault
        log.debug("job still running; tick skipped", job_id=event.job_id)


def _reloaded(
    settings: Settings, users: Users | None, load: Callable[[], Settings]
) -> tuple[Settings, Users | None]:
    """The new configuration and web console users, or the old ones if the new ones cannot
    be used (a broken users file included)."""
    try:
        new = load()
        new_users = load_users(new.web) if new.web.port else None
    except ConfigError as exc:
        log.error("reload refused: configuration invalid; keeping the old one", error=str(exc))
        return settings, users
    if new.database != settings.database:
        log.error("reload refused: [database] changed; restart to use another database")
        return settings, users
    log.info("configuration reloaded", source=new.source)
    return new, new_users


def _metrics_server(settings: Settings, metrics: Metrics) -> MetricsServer | None:
    if not settings.metrics.port:
        return None
    server = MetricsServer(metrics.registry, settings.metrics.host, settings.metrics.port).start()
    log.info("serving metrics", url=f"http://{settings.metrics.host}:{server.port}/metrics")
    return server


def _where(settings: Settings) -> str:
    return make_url(settings.database.url).render_as_string(hide_password=True)


def _console(app: App, settings: Settings, users: Users) -> ConsoleServer:
    """The web console, started; its stack (Starlette, uvicorn, Jinja2) is imported only
    when ``[web] port`` asks for it, so a ``run`` without it starts as fast as before."""
    from bridge.web.server import ConsoleServer

    return ConsoleServer(app, settings.web, users).start()
