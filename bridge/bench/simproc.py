"""The benchmark's Centra: the simulator in a child process, its queue topped up as it drains.

Queuing 100,000 events up front would hold every payload as an lxml tree in the simulator
(several GB) and take minutes before the first page; instead a few thousand are queued ahead
and refilled in the background. A hook on every events_Get refills synchronously should the
background fall behind, so the bridge never sees a short page before the last one. The event
stream depends on the seed only, not on how it is cut into refills.

The child runs ``main`` (``--events N --password P``); it prints ``url <endpoint>`` once it
listens and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType, TracebackType

from bridge.simulator import WINDOW_SIZE, Reply, Request, Simulator

#: Events queued ahead of the bridge; each costs the simulator about 40 kB as an lxml tree.
AHEAD = 3000
#: The background refill starts once fewer than this many are queued.
LOW_WATER = 1500
#: How often the refill thread looks at the queue.
_REFILL_POLL_S = 0.1
#: How long the parent waits for the child to listen, and to stop.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
#: The child's entry point (``-m`` would import this module twice: once as the package's).
_CHILD = "import sys; from bridge.bench.simproc import main; sys.exit(main(sys.argv[1:]))"


class ToppedUpQueue:
    """Keeps ``total`` generated events flowing into ``sim`` without queuing them all at once."""

    def __init__(self, sim: Simulator, total: int) -> None:
        self.sim = sim
        self.total = total
        self.added = 0
        # The generator is not thread-safe; the hook and the refill thread take turns.
        self._lock = threading.Lock()

    def top_up(self, minimum: int, target: int = AHEAD) -> None:
        """Queue more events until ``target`` are pending, if fewer than ``minimum`` are."""
        with self._lock:
            pending = len(self.sim.queue())
            if pending >= minimum or self.added >= self.total:
                return
            count = min(target - pending, self.total - self.added)
            self.sim.add_generated(count)
            self.added += count

    def before_request(self, request: Request) -> Reply | None:
        """Fault hook: never answers, only makes sure a full window is queued."""
        if request.operation in ("events_Get", "events_GetByMarkets"):
            self.top_up(WINDOW_SIZE)
        return None

    def refill_until(self, stop: threading.Event) -> None:
        while not stop.is_set() and self.added < self.total:
            self.top_up(LOW_WATER)
            stop.wait(_REFILL_POLL_S)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridge.bench.simproc")
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--username", default="bench")
    parser.add_argument("--password", required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    with Simulator(username=args.username, password=args.password, seed=args.seed) as sim:
        queue = ToppedUpQueue(sim, args.events)
        queue.top_up(AHEAD)
        sim.faults.append(queue.before_request)
        refill = threading.Thread(target=queue.refill_until, args=(stop,), daemon=True)
        refill.start()
        print(f"url {sim.url}", flush=True)
        stop.wait()
        refill.join(STOP_TIMEOUT_S)
    return 0


@dataclass
class SimulatorProcess:
    """Parent side: start the child, learn its URL, stop it; usable as a context manager."""

    events: int
    seed: int
    username: str
    password: str
    url: str = ""
    _process: subprocess.Popen[str] | None = None

    def start(self) -> SimulatorProcess:
        command = [sys.executable, "-c", _CHILD, "--events", str(self.events),
                   "--seed", str(self.seed), "--username", self.username,
                   "--password", self.password]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        timer = threading.Timer(START_TIMEOUT_S, self._process.kill)
        timer.start()
        try:
            line = self._process.stdout.readline()
        finally:
            timer.cancel()
        if not line.startswith("url "):
            self.stop()
            raise RuntimeError(f"the simulator did not start (it said {line!r})")
        self.url = line.split(" ", 1)[1].strip()
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
