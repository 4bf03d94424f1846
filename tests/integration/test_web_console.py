"""The web console in a real browser: Debian's Chromium driven by Playwright, over real HTTP
on loopback, against a store a real drain from the simulator filled (SQLite and PostgreSQL).

The ERP refuses order 1003 during the drain; an operator finds it, retries one of its events
(the test runs the service's dispatch afterwards, with the ERP fixed) and skips the other.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bridge_process
import daemon_harness
import pytest
import requests
from daemon_harness import Daemon
from erp_double import ERP_DOWN_ENV, LEAK_ENV, POISON_ENV
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bridge.app import App
from bridge.config import WebSettings, load_settings
from bridge.errors import ExitCode
from bridge.simulator import Simulator
from bridge.simulator.app import Reply, Request
from bridge.simulator.soap import CENTRA_NS, result_reply
from bridge.store.lookups import find_event, list_events
from bridge.web.server import ConsoleServer
from bridge.web.users import Role, user_line

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-console-5c1e-never-on-a-page"
REFUSAL = "ValueError: ERP cannot book order 1003: unknown VAT code"
OPERATOR, OPERATOR_PW = "ada", "ada's long passphrase"
READER, READER_PW = "rob", "rob reads only"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium package")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def order(order_id: str, status: str) -> dict[str, str]:
    return {"id": order_id, "ordernumber": order_id, "status": status, "currency": "EUR"}


@dataclass
class Running:
    """A drained store, the bridge opened on it, and its console on a free loopback port."""

    url: str
    app: App
    config: Path
    users: Path


def drained_store(tmp_path: Path, database_url: str) -> tuple[Path, Path]:
    """Orders 1003 (twice, refused by the ERP) and 1004 drained; a config and a users file."""
    with Simulator(username="erp", password=PASSWORD, seed=5) as simulator:
        simulator.add_event("order", order("1003", "pending"), mission="insert")
        simulator.add_event("order", order("1003", "confirmed"))
        simulator.add_event("order", order("1004", "confirmed"), mission="insert")
        sink = tmp_path / "erp-in"
        sink.mkdir()
        extra = (
            "[handlers]\nmax_attempts = 2\nretry_base = 3600\nretry_max = 3600\n"
            '[handlers.custom]\norder = "erp_double:poison_order"\n'
            f'[sinks.order]\nkind = "directory"\npath = "{sink}"\n'
        )
        config = bridge_process.write_config(tmp_path, simulator.url, PASSWORD, extra)
        config.write_text(config.read_text().replace("sqlite:///bridge.db", database_url))
        drain = bridge_process.run_bridge(
            "--config", str(config), "drain-events", env={POISON_ENV: "1003"}
        )
        assert drain.returncode == ExitCode.OK, drain.stderr
    users = tmp_path / "web-users"
    users.write_text(
        "# the console's users\n"
        f"{user_line(OPERATOR, Role.OPERATE, OPERATOR_PW)}\n"
        f"{user_line(READER, Role.READ, READER_PW)}\n",
        encoding="utf-8",
    )
    return config, users


@pytest.fixture
def console(tmp_path: Path, database_url: str) -> Iterator[Running]:
    config, users = drained_store(tmp_path, database_url)
    with App.open(load_settings(config, read_password=False)) as app:
        server = ConsoleServer(app, WebSettings(port=0, users_file=users)).start()
        try:
            yield Running(server.url, app, config, users)
        finally:
            server.stop()


@pytest.fixture
def sqlite_console(tmp_path: Path) -> Iterator[Running]:
    """The same on SQLite only, for the checks that do not depend on the database."""
    config, users = drained_store(tmp_path, f"sqlite:///{tmp_path / 'bridge.db'}")
    with App.open(load_settings(config, read_password=False)) as app:
        server = ConsoleServer(app, WebSettings(port=0, users_file=users)).start()
        try:
            yield Running(server.url, app, config, users)
        finally:
            server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def log_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url + "login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def status_of(running: Running, event_id: str) -> str:
    with running.app.store.reading() as session:
        found = find_event(session, event_id)
    assert found is not None
    return found[0].status


def failed_ids(page: Page, running: Running) -> list[str]:
    page.goto(running.url + "events?q=1003")
    return page.locator("table tr td:first-child a").all_inner_texts()


def test_an_operator_finds_an_order_retries_one_event_and_skips_the_other(
    console: Running, page: Page
) -> None:
    """Log in, search order 1003, open its trail, retry its first event and see it handled
    once the dispatch ran with the ERP fixed, skip the second with a reason."""
    log_in(page, console.url, OPERATOR, OPERATOR_PW)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator(".verdict")).to_contain_text(re.compile("Healthy|Not healthy"))
    expect(page.get_by_role("link", name="failed")).to_be_visible()

    page.get_by_role("link", name="Events", exact=True).click()
    page.get_by_label("Event or object id").fill("1003")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table tr:has(td)")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("ValueError: ERP cannot book order 1003")

    rows.first.get_by_role("link", name="1003").click()
    expect(page.get_by_role("heading", name="order 1003")).to_be_visible()
    trail = page.locator("table").first.locator("tr:has(td)")
    expect(trail).to_have_count(2)
    expect(trail.nth(0)).to_contain_text("insert")
    expect(trail.nth(1)).to_contain_text("update")
    first, second = trail.locator("td:first-child a").all_inner_texts()

    trail.nth(0).get_by_role("link", name=first, exact=True).click()
    expect(page.locator("#event-error")).to_have_text(REFUSAL)
    expect(page.locator("#event-xml")).to_contain_text("1003")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".flash")).to_contain_text(f"Event {first} is due again")
    expect(page.locator("#event-status")).to_have_text("new")
    expect(page.locator("#event-note")).to_contain_text(f"retried by {OPERATOR} (web console)")

    # The ERP takes order 1003 now (only the drain was poisoned): the service's dispatch runs.
    assert console.app.dispatcher.run_due()["handled"] == 1
    page.reload()
    expect(page.locator("#event-status")).to_have_text("handled")
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)

    page.goto(console.url + f"events/{second}")
    page.get_by_label("why").fill("entered by hand in the ERP")
    page.get_by_role("button", name="Skip").click()
    expect(page.locator(".flash")).to_contain_text(f"Event {second} skipped")
    expect(page.locator("#event-status")).to_have_text("skipped")
    expect(page.locator("#event-note")).to_contain_text(f"skipped by {OPERATOR} (web console)")
    expect(page.locator("#event-note")).to_contain_text("entered by hand in the ERP")
    assert status_of(console, first) == "handled" and status_of(console, second) == "skipped"

    page.get_by_role("button", name="Replay").click()  # the handler runs it now, as replay does
    expect(page.locator(".flash")).to_contain_text(f"Event {second} replayed: handled 1")
    expect(page.locator("#event-status")).to_have_text("handled")
    assert PASSWORD not in page.content()


def test_every_page_but_health_needs_a_login(sqlite_console: Running, page: Page) -> None:
    """Without a login each page leads to the login form; /health answers anyone, and only
    with its verdict."""
    for path in ("", "events", "events?status=failed", "objects/order/1003", "outbox", "ids"):
        page.goto(sqlite_console.url + path)
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        assert "1003" not in page.locator("main").inner_text()
    health = requests.get(sqlite_console.url + "health", timeout=5)
    assert health.status_code in (200, 503)
    assert health.text.startswith(("ok", "stale: "))
    retry = requests.post(sqlite_console.url + "events/x/retry", timeout=5, allow_redirects=False)
    assert (retry.status_code, retry.headers["location"].split("?")[0]) == (303, "/login")


def test_the_read_role_sees_but_cannot_change(sqlite_console: Running, page: Page) -> None:
    """rob (read) sees the failed event without any action; a POST he forges with a valid
    token is refused and the event stays failed."""
    running = sqlite_console
    log_in(page, running.url, READER, READER_PW)
    event_id = failed_ids(page, running)[0]
    page.goto(running.url + f"events/{event_id}")
    expect(page.locator("#event-status")).to_have_text("failed")
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    expect(page.get_by_role("button", name="Skip")).to_have_count(0)
    expect(page.get_by_role("button", name="Replay")).to_have_count(0)
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    answer = page.request.post(
        running.url + f"events/{event_id}/skip", form={"csrf": token, "reason": "mine"}
    )
    assert answer.status == 403 and "read role" in answer.text()
    assert status_of(running, event_id) == "failed"


def test_a_post_without_or_with_a_wrong_csrf_token_changes_nothing(
    sqlite_console: Running, page: Page
) -> None:
    running = sqlite_console
    log_in(page, running.url, OPERATOR, OPERATOR_PW)
    event_id = failed_ids(page, running)[0]
    for form in ({"reason": "forged"}, {"reason": "forged", "csrf": "not-the-token"}):
        answer = page.request.post(running.url + f"events/{event_id}/skip", form=form)
        assert answer.status == 403 and "nothing was changed" in answer.text()
        answer = page.request.post(running.url + f"events/{event_id}/retry", form=form)
        assert answer.status == 403
    assert status_of(running, event_id) == "failed"


def test_hostile_search_strings_are_shown_as_text(sqlite_console: Running, page: Page) -> None:
    """A script-ish and SQL-ish search is shown as typed, runs nothing and matches nothing."""
    running = sqlite_console
    log_in(page, running.url, OPERATOR, OPERATOR_PW)
    hostile = "<script>window.pwned = 1</script>' OR '1'='1"
    page.goto(running.url + "events")
    page.get_by_label("Event or object id").fill(hostile)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("main code")).to_have_text(hostile)
    expect(page.get_by_text("No stored event matches.")).to_be_visible()
    assert page.evaluate("window.pwned") is None
    page.goto(running.url + "ids?q=" + requests.utils.quote(hostile))
    expect(page.locator("main code")).to_have_text(hostile)
    page.goto(running.url + "events?status=nonsense")
    expect(page.get_by_role("alert")).to_contain_text("status: one of new,")


def test_failed_logins_are_limited(sqlite_console: Running, page: Page) -> None:
    """After five wrong passwords for ada, even the right one is refused for a while."""
    for _ in range(5):
        log_in(page, sqlite_console.url, OPERATOR, "guess")
        expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    log_in(page, sqlite_console.url, OPERATOR, OPERATOR_PW)
    expect(page.get_by_role("alert")).to_contain_text("Too many failed logins")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_the_web_command_serves_the_console_until_sigterm(tmp_path: Path) -> None:
    """centra-bridge web --port 0 says where it listens, answers there, and exits 0 on
    SIGTERM."""
    config, users = drained_store(tmp_path, f"sqlite:///{tmp_path / 'bridge.db'}")
    with config.open("a", encoding="utf-8") as toml:
        toml.write(f'[web]\nusers_file = "{users.name}"\n')
    process = subprocess.Popen(
        bridge_process.bridge_command("--config", str(config), "web", "--port", "0"),
        stderr=subprocess.PIPE,
        text=True,
        env=bridge_process.child_env(),
    )
    try:
        assert process.stderr is not None
        url = ""
        for line in process.stderr:
            if found := re.search(r"web console at (http://\S+/)", line):
                url = found.group(1)
                break
        assert url, "no 'web console at' line"
        login = requests.get(url + "login", timeout=5)
        assert login.status_code == 200 and "User name" in login.text
        assert requests.get(url, timeout=5, allow_redirects=False).status_code == 303
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == ExitCode.OK
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_run_serves_the_console_and_handles_what_an_operator_retries(
    tmp_path: Path, page: Page
) -> None:
    """With [web] port set, run serves the console; an event that failed while the ERP was
    down, retried there once it is back, is handled by the service's own dispatch."""
    down = tmp_path / "erp-down"
    down.touch()
    users = tmp_path / "web-users"
    users.write_text(user_line(OPERATOR, Role.OPERATE, OPERATOR_PW) + "\n", encoding="utf-8")
    port = free_port()
    extra = (
        "[handlers]\nmax_attempts = 5\nretry_base = 3600\nretry_max = 3600\n"
        '[handlers.custom]\norder = "erp_double:flaky_order"\n'
        f'[web]\nport = {port}\nusers_file = "{users.name}"\n'
    )
    with Simulator(username="erp", password=PASSWORD, seed=5) as simulator:
        simulator.add_event("order", order("1005", "confirmed"), mission="insert")
        daemon = Daemon(
            daemon_harness.write_config(tmp_path, simulator.url, PASSWORD, extra=extra),
            env={ERP_DOWN_ENV: str(down)},
        )
        try:
            daemon.wait_log(lambda line: "serving the web console" in line)
            assert simulator.wait_for(lambda: not simulator.queue()), daemon.output()
            url = f"http://127.0.0.1:{port}/"
            log_in(page, url, OPERATOR, OPERATOR_PW)
            page.goto(url + "events?q=1005")
            page.locator("table tr:has(td) td:first-child a").first.click()
            expect(page.locator("#event-status")).to_have_text("failed")
            expect(page.locator("#event-error")).to_contain_text("connection refused")

            down.unlink()  # the ERP is back
            page.get_by_role("button", name="Retry").click()
            expect(page.locator(".flash")).to_contain_text("is due again")
            for _ in range(100):  # the service's next dispatch; no time is asserted
                if page.locator("#event-status").inner_text() == "handled":
                    break
                page.wait_for_timeout(200)
                page.reload()
            expect(page.locator("#event-status")).to_have_text("handled")
            assert PASSWORD not in page.content()
        finally:
            code = daemon.stop()
    assert code == ExitCode.OK, daemon.output()
    made_due = [line for line in daemon.lines if "events made due again by hand" in line]
    assert len(made_due) == 1 and f"{OPERATOR} (web console)" in made_due[0]


def test_the_centra_password_never_reaches_a_page(tmp_path: Path, page: Page) -> None:
    """A handler's error that quotes the Centra password is stored as it came; every page
    that shows it shows it masked (the console knows the password, as under run)."""
    with Simulator(username="erp", password=PASSWORD, seed=5) as simulator:
        simulator.add_event("order", order("1007", "confirmed"), mission="insert")
        extra = '[handlers.custom]\norder = "erp_double:leaky_order"\n'
        config = bridge_process.write_config(tmp_path, simulator.url, PASSWORD, extra)
        drain = bridge_process.run_bridge(
            "--config", str(config), "drain-events", env={LEAK_ENV: PASSWORD}
        )
        assert drain.returncode == ExitCode.OK, drain.stderr
    users = tmp_path / "web-users"
    users.write_text(user_line(READER, Role.READ, READER_PW) + "\n", encoding="utf-8")
    with App.open(load_settings(config)) as app:
        event_id = failed_event(app)
        server = ConsoleServer(app, WebSettings(port=0, users_file=users)).start()
        try:
            log_in(page, server.url, READER, READER_PW)
            for path in ("", "events?q=1007", "objects/order/1007", f"events/{event_id}"):
                page.goto(server.url + path)
                expect(page.locator("main")).to_contain_text("ERP refused order 1007: login ****")
                assert PASSWORD not in page.content()
        finally:
            server.stop()


def failed_event(app: App) -> str:
    """The one failed event's id, its error as stored (the password in it)."""
    with app.store.reading() as session:
        (event,) = list_events(session, statuses=("failed",), limit=5).rows
    assert PASSWORD in (event.error or "")
    return str(event.event_id)


def test_an_operator_sees_centras_refusal_of_an_update_and_retries_it(
    tmp_path: Path, page: Page
) -> None:
    """An ERP update Centra refused (success=false) shows in the overview and on its record
    page with Centra's own message; a retry there makes it due for the next push."""
    with Simulator(username="erp", password=PASSWORD, seed=5) as simulator:

        def refuse(request: Request) -> Reply | None:
            if request.operation == "customers_Update":
                return Reply(200, result_reply(CENTRA_NS, False, ["Unknown store 9"]))
            return None

        simulator.faults.append(refuse)
        config = bridge_process.write_config(tmp_path, simulator.url, PASSWORD)
        updates = tmp_path / "updates.jsonl"
        updates.write_text('{"type": "customer", "id": "C1001", "firstname": "Ada"}\n')
        pushed = bridge_process.run_bridge("--config", str(config), "push", str(updates))
        assert pushed.returncode == ExitCode.PARTIAL, pushed.stderr
    users = tmp_path / "web-users"
    users.write_text(user_line(OPERATOR, Role.OPERATE, OPERATOR_PW) + "\n", encoding="utf-8")
    with App.open(load_settings(config, read_password=False)) as app:
        server = ConsoleServer(app, WebSettings(port=0, users_file=users)).start()
        try:
            log_in(page, server.url, OPERATOR, OPERATOR_PW)
            troubled = page.locator("table:below(:text('Failed and dead outbox records'))").first
            expect(troubled).to_contain_text("Unknown store 9")
            page.get_by_role("link", name="Outbox", exact=True).click()
            page.get_by_label("Status").select_option("failed")
            page.get_by_role("button", name="Show").click()
            rows = page.locator("table tr:has(td)")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("C1001")
            rows.first.locator("td:first-child a").click()
            expect(page.locator("dl")).to_contain_text("Centra error")
            expect(page.locator("dl")).to_contain_text("Unknown store 9")
            expect(page.locator("table")).to_contain_text("Ada")
            page.get_by_role("button", name="Retry").click()
            expect(page.locator(".flash")).to_contain_text("is due again")
            expect(page.locator("dl")).to_contain_text(f"retried by {OPERATOR} (web console)")
            page.goto(server.url + "outbox?status=queued")
            expect(page.locator("table tr:has(td)")).to_have_count(1)
        finally:
            server.stop()


def test_filters_by_date_and_the_id_map_search(sqlite_console: Running, page: Page) -> None:
    """Events received since a later day: none; a date that is not one: one line saying so.
    The id map finds a mapping by either of its ids."""
    running = sqlite_console
    mapped = bridge_process.run_bridge(
        "--config", str(running.config), "ids", "set", "customer", "ERP-77", "centra-9001"
    )
    assert mapped.returncode == ExitCode.OK, mapped.stderr
    log_in(page, running.url, READER, READER_PW)
    page.goto(running.url + "events?type=order&since=2000-01-01")
    expect(page.locator("table tr:has(td)")).to_have_count(3)
    page.goto(running.url + "events?type=order&since=2999-01-01")
    expect(page.get_by_text("No stored event matches.")).to_be_visible()
    page.goto(running.url + "events?since=yesterday")
    expect(page.get_by_role("alert")).to_contain_text("since: not a date or time")
    for some_id in ("ERP-77", "centra-9001"):
        page.goto(running.url + "ids")
        page.get_by_label("ERP id or Centra id").fill(some_id)
        page.get_by_role("button", name="Find").click()
        cells = page.locator("table tr:has(td) td")
        expect(cells).to_have_text(["customer", "ERP-77", "centra-9001", "manual"])


def test_a_login_expires(tmp_path: Path, page: Page) -> None:
    """With [web] session = 1, a login no longer opens pages a few seconds later."""
    config, users = drained_store(tmp_path, f"sqlite:///{tmp_path / 'bridge.db'}")
    with App.open(load_settings(config, read_password=False)) as app:
        web = WebSettings(port=0, users_file=users, session_s=1)
        server = ConsoleServer(app, web).start()
        try:
            log_in(page, server.url, READER, READER_PW)
            expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            page.wait_for_timeout(2500)
            page.goto(server.url + "events")
            expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        finally:
            server.stop()


def test_a_reload_with_a_broken_users_file_keeps_the_service_and_its_console(
    tmp_path: Path,
) -> None:
    """SIGHUP after the users file was spoiled: the reload is refused in the log, run keeps
    serving the console with the users it had."""
    users = tmp_path / "web-users"
    users.write_text(user_line(OPERATOR, Role.OPERATE, OPERATOR_PW) + "\n", encoding="utf-8")
    port = free_port()
    extra = f'[web]\nport = {port}\nusers_file = "{users.name}"\n'
    with Simulator(username="erp", password=PASSWORD, seed=5) as simulator:
        daemon = Daemon(daemon_harness.write_config(tmp_path, simulator.url, PASSWORD, extra=extra))
        try:
            daemon.wait_log(lambda line: "serving the web console" in line)
            users.write_text("ada:operate:not-a-hash\n", encoding="utf-8")
            daemon.signal(signal.SIGHUP)
            refused = daemon.wait_log(lambda line: "reload refused" in line)
            assert "not an argon2 hash" in refused
            # The jobs start again with the settings they had, the console with them.
            before = daemon.lines.index(refused)
            daemon.wait_log(
                lambda line: "serving the web console" in line and daemon.lines.index(line) > before
            )
            http = requests.Session()
            form = http.get(f"http://127.0.0.1:{port}/login", timeout=5).text
            token = re.search(r'name="csrf" value="([^"]+)"', form)
            assert token is not None
            answer = http.post(
                f"http://127.0.0.1:{port}/login",
                data={"csrf": token[1], "user": OPERATOR, "password": OPERATOR_PW},
                timeout=5,
            )
            assert answer.status_code == 200 and "Overview" in answer.text
        finally:
            code = daemon.stop()
    assert code == ExitCode.OK, daemon.output()
