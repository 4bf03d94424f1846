"""The web console on a port of its own: uvicorn on a thread, started and stopped in-process.

``centra-bridge run`` starts it beside the metrics server when ``[web] port`` is set, and
``centra-bridge web`` serves it alone. The session secret is made anew at each start: a
restart (or a reload of ``run``) ends every login.
"""

from __future__ import annotations

import threading
import time

import structlog
import uvicorn

from bridge.app import App
from bridge.config import ConfigError, WebSettings
from bridge.web.app import Console, console_app
from bridge.web.users import Users, load_users

log = structlog.get_logger(__name__)

#: How long a start waits for the port to be listened on.
_START_TIMEOUT_S = 10.0


class ConsoleServer:
    """Serves the console for ``bridge`` until ``stop``."""

    def __init__(self, bridge: App, settings: WebSettings, users: Users | None = None) -> None:
        """``users``: those already read (run keeps them across reloads); None reads the
        users file of ``settings``."""
        console = Console(bridge, users or load_users(settings))
        self.host = settings.host
        config = uvicorn.Config(
            console_app(console, session_s=settings.session_s),
            host=settings.host,
            port=settings.port,
            log_config=None,  # the bridge's logging stays as configured
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self.port = 0

    def start(self) -> ConsoleServer:
        """Listen, or ConfigError when the address cannot be listened on."""
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ConfigError(
                    f"[web] cannot listen on {self.host}:{self._server.config.port} "
                    "(in use, or not an address of this host)"
                )
            time.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        log.info("serving the web console", url=self.url)
        return self

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def stop(self) -> None:
        """Stop serving and free the port; requests in flight are finished first."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join()
