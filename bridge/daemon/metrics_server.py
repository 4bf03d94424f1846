"""``GET`` and ``HEAD /metrics`` on a port of its own, with prometheus_client's WSGI app.

prometheus_client answers any path and refuses HEAD (405); monitoring probes send HEAD, and a
typo in a scrape path should fail loudly, so a thin WSGI layer serves ``/metrics`` only and
answers HEAD with GET's headers and no body.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

#: The one path served; anything else is 404.
PATH = "/metrics"


class MetricsServer:
    """Serves ``registry`` on its own thread until ``stop``."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        app = _metrics_only(make_wsgi_app(registry))
        self._server = make_server(
            host, port, app, server_class=ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.port: int = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port; a scrape in flight is not waited for."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _metrics_only(app: WSGIApplication) -> WSGIApplication:
    """``app`` at ``/metrics`` only, with HEAD answered as GET without its body."""

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"not found; metrics are at {PATH}\n".encode()]
        if environ["REQUEST_METHOD"] == "HEAD":
            return _head(app, environ, start_response)
        return app(environ, start_response)

    return serve


def _head(
    app: WSGIApplication, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """GET's status and headers (its length included), without the body."""
    answered: list[tuple[str, list[tuple[str, str]]]] = []

    def keep(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        answered.append((status, headers))
        return lambda data: None

    body = b"".join(app({**environ, "REQUEST_METHOD": "GET"}, keep))
    status, headers = answered[0]
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return []


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return  # scrapes every few seconds would drown the log
