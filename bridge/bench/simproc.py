"""The benchmark's Centra: the simulator in a child process, its queue topped up as it drains.

The simulator keeps each queued event as its answer's bytes (about 6 kB), so ``AHEAD`` events,
a whole default run, are queued before the child says it listens: generating an event costs
about half a millisecond of CPU, which the bridge would otherwise share during the drain. A
longer run is topped up in the background, and a hook on every events_Get tops up synchronously
should the background fall behind, so the bridge never sees a short page before the last one.

Only the first ``AHEAD`` events are generated; the rest are those same prepared events again,
in order, each queued under a new id. Centra re-sends an object's whole state whenever it
changes, so an order seen again under a new event id is what the bridge meets in production,
and its work per event (parse, store, acknowledge, handle) is the same; generating instead
would make the simulator, not the bridge, the slow part of a long run on a small machine.
Keeping them costs about their bytes, as queuing them did. The first ``AHEAD`` events depend
on the seed only, not on how they are cut into batches, and so does the whole stream.

The child runs ``main`` (``--events N``, the password on the first line of stdin: a command
line is visible to every user of the machine); it prints ``url <endpoint>`` once it listens and
stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType, TracebackType

from bridge.simulator import WINDOW_SIZE, Reply, Request, Simulator
from bridge.simulator.queue import Event

#: Events kept queued ahead of the bridge, and events generated (a longer run repeats them): the
#: default run (bench's ``DEFAULT_EVENTS``), which makes a child of about 150 MB.
AHEAD = 10_000
#: Events queued at a time (about 0.1 s of work while they are generated): an events_Get that
#: finds fewer than a window queued waits for one batch at most, and the generator's
#: short-lived payloads stay few (generating 10,000 at once doubles the child's memory).
BATCH = 200
#: How often the refill thread looks at the queue once ``AHEAD`` are queued.
_REFILL_POLL_S = 0.1
#: Its pause between batches: it lets go of the lock long enough for a waiting events_Get.
_REFILL_PAUSE_S = 0.001
#: How long the parent waits for the child to listen, and to stop.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
#: The child's entry point (``-m`` would import this module twice: once as the package's).
_CHILD = "import sys; from bridge.bench.simproc import main; sys.exit(main(sys.argv[1:]))"


class ToppedUpQueue:
    """Keeps ``total`` events flowing into ``sim`` without queuing them all at once.

    The first ``fresh`` are generated, and kept; the rest are the kept ones again, in order.
    """

    def __init__(self, sim: Simulator, total: int, *, fresh: int = AHEAD) -> None:
        self.sim = sim
        self.total = total
        self.fresh = fresh
        self.added = 0
        self._prepared: list[Event] = []
        # The generator is not thread-safe; the hook and the refill thread take turns.
        self._lock = threading.Lock()

    def fill(self, target: int) -> None:
        """Queue events until ``target`` are pending (or all ``total`` were queued)."""
        while self.top_up(target):
            pass

    def top_up(self, target: int) -> bool:
        """Queue one batch towards ``target`` pending; False when none was due."""
        if self.sim.queue_length() >= target:
            return False  # without waiting for a batch the other thread may be making
        with self._lock:
            count = min(target - self.sim.queue_length(), self.total - self.added, BATCH)
            if count <= 0:
                return False
            self.sim.add_prepared(self._next(count))
            self.added += count
            return True

    def _next(self, count: int) -> list[Event]:
        """The next ``count`` events of the stream: generated up to ``fresh``, then again."""
        missing = min(self.added + count, self.fresh) - len(self._prepared)
        if missing > 0:
            self._prepared += self.sim.prepare_generated(missing)
        return [self._prepared[n % self.fresh] for n in range(self.added, self.added + count)]

    def before_request(self, request: Request) -> Reply | None:
        """Fault hook: never answers, only makes sure a full window is queued."""
        if request.operation in ("events_Get", "events_GetByMarkets"):
            self.fill(WINDOW_SIZE)
        return None

    def refill_until(self, stop: threading.Event) -> None:
        """Keep ``AHEAD`` events queued while the bridge drains, until all were queued."""
        while not stop.is_set() and self.added < self.total:
            stop.wait(_REFILL_PAUSE_S if self.top_up(AHEAD) else _REFILL_POLL_S)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bridge.bench.simproc",
        description="Serve the benchmark's events; the password is the first line of stdin.",
    )
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--username", default="bench")
    args = parser.parse_args(argv)
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        parser.error("no password on the first line of stdin")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    with Simulator(username=args.username, password=password, seed=args.seed) as sim:
        queue = ToppedUpQueue(sim, args.events)
        queue.fill(AHEAD)
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
        command = [
            sys.executable,
            "-c",
            _CHILD,
            "--events",
            str(self.events),
            "--seed",
            str(self.seed),
            "--username",
            self.username,
        ]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        # A child that died before reading says so below, by not printing its URL.
        with contextlib.suppress(BrokenPipeError), self._process.stdin:
            self._process.stdin.write(self.password + "\n")
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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
