"""The web console's pages and actions: a Starlette app over the same lookups as the CLI.

Every page but ``/health`` needs a login. Reading pages are plain GETs (usable without
JavaScript); each action is a POST carrying the session's CSRF token, allowed to the
``operate`` role only, and logged with the user's name. What a page shows passes through
the log's redactor first, so the Centra password never reaches a page, even quoted in an
error a handler wrote.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlencode

import structlog
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bridge import logging as bridge_logging
from bridge.app import App
from bridge.clock import utcnow
from bridge.errors import BridgeError
from bridge.inbox import lookup, manual, status
from bridge.inbox.replay import replay
from bridge.outbox import idmap
from bridge.outbox import lookup as outbox_lookup
from bridge.outbox import manual as outbox_manual
from bridge.store import events as events_repo
from bridge.store import idmap as idmap_repo
from bridge.store import outbox as outbox_repo
from bridge.store.events import ReplaySelection
from bridge.store.lookups import Listing
from bridge.store.models import EventStatus, OutboxStatus
from bridge.web.limits import LoginLimiter
from bridge.web.users import User, Users

log = structlog.get_logger(__name__)

#: Rows a list page shows.
PAGE_ROWS = 50
#: Sent with every page: no script runs, nothing is loaded from elsewhere, no other site
#: frames it, no page is cached (a shared browser shows nothing after a logout).
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
#: Longest search or filter value read from a query string.
_MAX_FIELD = 200


@dataclass
class Console:
    """What the pages work on: the bridge (its store, and the dispatcher a replay runs), the
    users, and the failed logins seen so far."""

    bridge: App
    users: Users
    limiter: LoginLimiter = field(default_factory=LoginLimiter)

    @property
    def max_age_s(self) -> float:
        """The health verdict's limit: the age at which systemd's watchdog stops being fed."""
        return self.bridge.settings.schedule.stall_after_s


def console_app(console: Console, *, session_s: float) -> Starlette:
    """The ASGI app. Its session cookies are signed with a secret made here, so a restart
    of the console ends every login; they expire after ``session_s``."""
    redactor = bridge_logging.Redactor([console.bridge.settings.centra.password.reveal()])
    templates = Environment(
        loader=PackageLoader("bridge.web", "templates"),
        autoescape=select_autoescape(default=True),
        finalize=partial(_scrubbed, redactor),
    )
    templates.filters["when"] = _when
    pages = _Pages(console, templates)
    routes = [
        Route("/health", pages.health),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.action(pages.logout, operate=False), methods=["POST"]),
        Route("/", pages.page(pages.overview)),
        Route("/events", pages.page(pages.events)),
        Route("/events/{event_id}", pages.page(pages.event)),
        Route("/events/{event_id}/retry", pages.action(pages.retry_event), methods=["POST"]),
        Route("/events/{event_id}/skip", pages.action(pages.skip_event), methods=["POST"]),
        Route("/events/{event_id}/replay", pages.action(pages.replay_event), methods=["POST"]),
        Route("/objects/{type}/{object_id}", pages.page(pages.story)),
        Route("/outbox", pages.page(pages.outbox)),
        Route("/outbox/{record_id:int}", pages.page(pages.record)),
        Route("/outbox/{record_id:int}/retry", pages.action(pages.retry_record), methods=["POST"]),
        Route("/ids", pages.page(pages.ids)),
    ]
    session = Middleware(
        SessionMiddleware,
        secret_key=secrets.token_urlsafe(32),
        session_cookie="centra_bridge_console",
        max_age=int(session_s),
        same_site="strict",
    )
    return Starlette(routes=routes, middleware=[session])


class _Refused(Exception):
    """A request the console answers with a page saying why, and changes nothing for."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


Page = Callable[[Request, User], Response]
Action = Callable[[Request, User, Mapping[str, str]], Response]


class _Pages:
    def __init__(self, console: Console, templates: Environment) -> None:
        self.console = console
        self.templates = templates

    # --- plumbing: login, CSRF, rendering ---------------------------------------------

    def render(
        self, request: Request, name: str, user: User | None, code: int = 200, **values: Any
    ) -> HTMLResponse:
        flash = request.session.pop("flash", None)
        html = self.templates.get_template(name).render(
            user=user, csrf=_csrf(request), flash=flash, path=request.url.path, **values
        )
        return HTMLResponse(html, status_code=code, headers=_PAGE_HEADERS)

    def current_user(self, request: Request) -> User | None:
        name = request.session.get("user")
        return self.console.users.by_name.get(name) if isinstance(name, str) else None

    def page(self, view: Page) -> Callable[[Request], Response]:
        """A reading page: a login first; run on a worker thread (the store is blocking)."""

        def serve(request: Request) -> Response:
            user = self.current_user(request)
            if user is None:
                return _to_login(request)
            try:
                return view(request, user)
            except _Refused as exc:
                return self.render(request, "refused.html", user, exc.code, message=str(exc))
            except BridgeError as exc:
                return self.render(request, "refused.html", user, 404, message=exc.summary())

        return serve

    def action(
        self, act: Action, *, operate: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        """A POST: a login, the session's CSRF token, and (``operate``) the operator role;
        anything missing and nothing is changed."""

        async def serve(request: Request) -> Response:
            user = self.current_user(request)
            form = _form(await request.body())
            if user is None:
                return _to_login(request)
            if not _csrf_matches(request, form.get("csrf", "")):
                log.warning(
                    "web console: POST refused, CSRF token missing or wrong",
                    user=user.name,
                    path=request.url.path,
                )
                return self.render(
                    request,
                    "refused.html",
                    user,
                    403,
                    message="The form's security token is missing or out of date; nothing "
                    "was changed. Reload the page and try again.",
                )
            if operate and not user.may_operate:
                log.warning(
                    "web console: action refused to a read-only user",
                    user=user.name,
                    path=request.url.path,
                )
                return self.render(
                    request,
                    "refused.html",
                    user,
                    403,
                    message=f"{user.name} has the read role: only operators change anything.",
                )
            try:
                return await run_in_threadpool(act, request, user, form)
            except BridgeError as exc:
                request.session["flash"] = f"Not done: {exc.summary()}"
                return RedirectResponse(request.url.path.rsplit("/", 1)[0], status_code=303)

        return serve

    # --- without a login --------------------------------------------------------------

    def health(self, request: Request) -> Response:
        """``ok`` (200) or why not (503): the verdict of ``status --max-age``, nothing else."""
        data = self._report()
        why = status.stale(data, self.console.max_age_s)
        return PlainTextResponse(f"stale: {why}\n" if why else "ok\n", 503 if why else 200)

    def login_form(self, request: Request) -> Response:
        return self.render(request, "login.html", None, next=_next(request.query_params))

    async def login(self, request: Request) -> Response:
        form = _form(await request.body())
        name, password = form.get("user", ""), form.get("password", "")
        address = request.client.host if request.client else "-"
        target = _next(form)
        if not _csrf_matches(request, form.get("csrf", "")):
            return self.render(
                request,
                "login.html",
                None,
                403,
                next=target,
                error="The login form was out of date; try again.",
            )
        limiter = self.console.limiter
        if limiter.blocked(name, address):
            log.warning("web console: login refused, too many failures", user=name, address=address)
            return self.render(
                request,
                "login.html",
                None,
                429,
                next=target,
                error="Too many failed logins; wait a few minutes.",
            )
        user = await run_in_threadpool(self.console.users.check, name, password)
        if user is None:
            limiter.failed(name, address)
            log.warning("web console: login failed", user=name, address=address)
            return self.render(
                request, "login.html", None, 401, next=target, error="Wrong user name or password."
            )
        limiter.succeeded(name)
        request.session.clear()  # a new session: nothing from before the login carries over
        request.session.update(user=user.name, csrf=secrets.token_urlsafe(32))
        log.info("web console: logged in", user=user.name, role=str(user.role), address=address)
        return RedirectResponse(target, status_code=303)

    def logout(self, request: Request, user: User, form: Mapping[str, str]) -> Response:
        request.session.clear()
        log.info("web console: logged out", user=user.name)
        return RedirectResponse("/login", status_code=303)

    # --- reading pages ----------------------------------------------------------------

    def _report(self) -> dict[str, Any]:
        with self.console.bridge.store.reading() as session:
            return status.report(session, utcnow())

    def overview(self, request: Request, user: User) -> Response:
        data = self._report()
        why = status.stale(data, self.console.max_age_s)
        return self.render(
            request, "overview.html", user, data=data, stale=why, max_age_s=self.console.max_age_s
        )

    def events(self, request: Request, user: User) -> Response:
        params = request.query_params
        chosen = _choice(params, "status", [s.value for s in EventStatus])
        kind = _choice(params, "type", sorted(lookup.KNOWN_TYPES))
        search = _field(params, "q")
        query = lookup.EventQuery(
            statuses=(chosen,) if chosen else (),
            types=(kind,) if kind else (),
            since=_since(params),
            search=search or None,
            limit=PAGE_ROWS,
            offset=_offset(params),
        )
        page = lookup.list_events(self.console.bridge.store, query)
        return self.render(
            request,
            "events.html",
            user,
            page=page,
            pager=_pager(request, page),
            statuses=[s.value for s in EventStatus],
            types=sorted(lookup.KNOWN_TYPES),
            chosen=chosen,
            kind=kind,
            search=search,
            since=_field(params, "since"),
        )

    def event(self, request: Request, user: User) -> Response:
        detail = lookup.event_detail(self.console.bridge.store, request.path_params["event_id"])
        status_now = detail.event.status
        return self.render(
            request,
            "event.html",
            user,
            detail=detail,
            event=detail.event,
            may_retry=status_now in events_repo.RETRIABLE,
            may_skip=status_now in events_repo.SKIPPABLE,
            may_replay=not self.console.bridge.read_only,
        )

    def story(self, request: Request, user: User) -> Response:
        story = lookup.object_story(
            self.console.bridge.store, request.path_params["type"], request.path_params["object_id"]
        )
        return self.render(request, "story.html", user, story=story)

    def outbox(self, request: Request, user: User) -> Response:
        params = request.query_params
        chosen = _choice(params, "status", [s.value for s in OutboxStatus])
        kind = _field(params, "type")
        query = outbox_lookup.RecordQuery(
            statuses=(chosen,) if chosen else (),
            types=(kind,) if kind else (),
            since=_since(params),
            limit=PAGE_ROWS,
            offset=_offset(params),
        )
        page = outbox_lookup.list_records(self.console.bridge.store, query)
        return self.render(
            request,
            "outbox.html",
            user,
            page=page,
            pager=_pager(request, page),
            statuses=[s.value for s in OutboxStatus],
            chosen=chosen,
            kind=kind,
            since=_field(params, "since"),
        )

    def record(self, request: Request, user: User) -> Response:
        detail = outbox_lookup.record_detail(
            self.console.bridge.store, request.path_params["record_id"]
        )
        return self.render(
            request,
            "record.html",
            user,
            detail=detail,
            record=detail.record,
            may_retry=detail.record.status in outbox_repo.RETRIABLE,
        )

    def ids(self, request: Request, user: User) -> Response:
        search = _field(request.query_params, "q")
        store = self.console.bridge.store
        found = idmap.find(store, search) if search else []
        with store.reading() as session:
            total = idmap_repo.count(session)
        return self.render(request, "ids.html", user, search=search, found=found, total=total)

    # --- actions (operators only) -----------------------------------------------------

    def retry_event(self, request: Request, user: User, form: Mapping[str, str]) -> Response:
        event_id = request.path_params["event_id"]
        manual.retry_events(self.console.bridge.store, _by(user), utcnow(), event_ids=[event_id])
        request.session["flash"] = (
            f"Event {event_id} is due again, attempts reset: the service's next dispatch "
            "handles it."
        )
        return RedirectResponse(f"/events/{event_id}", status_code=303)

    def skip_event(self, request: Request, user: User, form: Mapping[str, str]) -> Response:
        event_id = request.path_params["event_id"]
        manual.skip_events(
            self.console.bridge.store, [event_id], form.get("reason", ""), _by(user), utcnow()
        )
        request.session["flash"] = f"Event {event_id} skipped: no handler runs it again."
        return RedirectResponse(f"/events/{event_id}", status_code=303)

    def replay_event(self, request: Request, user: User, form: Mapping[str, str]) -> Response:
        event_id = request.path_params["event_id"]
        bridge = self.console.bridge
        report = replay(bridge.store, bridge.dispatcher, ReplaySelection(event_ids=(event_id,)))
        outcome = ", ".join(f"{status_} {n}" for status_, n in sorted(report.counts.items()))
        log.info("event replayed by hand", user=_by(user), event_id=event_id, outcome=outcome)
        request.session["flash"] = f"Event {event_id} replayed: {outcome or 'nothing ran'}."
        return RedirectResponse(f"/events/{event_id}", status_code=303)

    def retry_record(self, request: Request, user: User, form: Mapping[str, str]) -> Response:
        record_id = int(request.path_params["record_id"])
        done = outbox_manual.retry_records(
            self.console.bridge.store, _by(user), utcnow(), record_ids=[record_id]
        )
        request.session["flash"] = (
            f"Record #{record_id} is due again: the service's next push sends it."
            if done.due
            else f"Record #{record_id} was kept as it is: a newer record for the same object "
            "exists."
        )
        return RedirectResponse(f"/outbox/{record_id}", status_code=303)


def _scrubbed(redactor: bridge_logging.Redactor, value: object) -> object:
    """A value a page shows, secrets masked; Markup (a macro's output) was masked value by
    value already."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return redactor.scrub(value)
    return value


def _by(user: User) -> str:
    """Who did it, as kept with the events and records and logged."""
    return f"{user.name} (web console)"


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_matches(request: Request, given: str) -> bool:
    token = request.session.get("csrf")
    return isinstance(token, str) and hmac.compare_digest(token.encode(), given.encode())


def _form(body: bytes) -> dict[str, str]:
    """An urlencoded form's fields (the first value of each); nothing else is read."""
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=20)
    return {key: values[0] for key, values in fields.items()}


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def _next(params: Mapping[str, str]) -> str:
    """Where to go after the login: a path on this console only."""
    target = params.get("next", "/")
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _field(params: Mapping[str, str], name: str) -> str:
    return params.get(name, "").strip()[:_MAX_FIELD]


def _choice(params: Mapping[str, str], name: str, allowed: list[str]) -> str:
    value = _field(params, name)
    if value and value not in allowed:
        raise _Refused(400, f"{name}: one of {', '.join(allowed)}; got {value!r}")
    return value


def _since(params: Mapping[str, str]) -> datetime | None:
    text = _field(params, "since")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Refused(
            400, f"since: not a date or time (2026-05-01 or 2026-05-01T12:00), got {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _offset(params: Mapping[str, str]) -> int:
    text = _field(params, "offset") or "0"
    if not text.isdigit():
        raise _Refused(400, f"offset: must be 0 or more, got {text!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class _Pager:
    first: int
    last: int
    total: int
    previous: str | None
    next: str | None


def _pager(request: Request, page: Listing) -> _Pager:
    """Links to the pages before and after, keeping the filters."""
    params = dict(request.query_params)

    def at(offset: int) -> str:
        return "?" + urlencode({**params, "offset": str(offset)})

    shown = len(page.rows)
    return _Pager(
        first=page.offset + 1 if shown else 0,
        last=page.offset + shown,
        total=page.total,
        previous=at(max(0, page.offset - PAGE_ROWS)) if page.offset else None,
        next=at(page.offset + shown) if page.more else None,
    )


def _when(moment: datetime | str | None) -> str:
    """A moment for people: UTC to the second (``-`` for none), as the CLI shows it."""
    if moment is None or moment == "":
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
