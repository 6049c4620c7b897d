"""The processes of a production deployment, each its own `lendgraph` process with
production settings: the API (`serve --workers N`), job workers and one scheduler. Each
runs in its own session (a Ctrl-C reaches only the bench, which stops them in order) and
writes its output to a log file."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
THREAD_DIED = re.compile(r"^Exception in thread (\S+?)( \(.*\))?:$")
ERROR = re.compile(r"^[\w.]+(Error|Exception|Exit|Interrupt)\b")


def production_env(database_url: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    """What app/settings.py requires in production (random secrets, no development
    passwords), with no core banking system or scoring engine, and a mail server."""
    return {
        **os.environ,
        "LENDGRAPH_ENV": "production",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "SCORING_CALLBACK_PASSWORD": secrets.token_urlsafe(24),
        "CBS_URL": "",
        "SCORING_ENGINE_URL": "",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_NAMESPACE": f"chaos-{secrets.token_hex(4)}",
        "SEED_ON_START": "false",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "BILLING_CHUNK_SIZE": "50",
        "ACCESS_TOKEN_TTL_SECONDS": "3600",  # one sign-in lasts the whole run
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


class Fleet:
    def __init__(self, env: dict[str, str], logs: Path, port: int) -> None:
        self.env, self.logs, self.port = env, logs, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.scheduler: subprocess.Popen[bytes] | None = None
        self._started: list[subprocess.Popen[bytes]] = []
        self._read_up_to: dict[str, int] = {}

    def spawn(self, log: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{log}.log").open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started.append(process)
        return process

    def start(self, api_workers: int, workers: int, worker_threads: int) -> None:
        self.api = self.spawn(
            "serve", "serve", "--port", str(self.port), "--workers", str(api_workers)
        )
        self.workers = [self.start_worker(n, worker_threads) for n in range(workers)]
        self.scheduler = self.spawn("scheduler", "scheduler")
        self._wait_until_serving()

    def start_worker(self, n: int, threads: int) -> subprocess.Popen[bytes]:
        return self.spawn(f"worker-{n}", "worker", "--threads", str(threads))

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"the API did not start; see {self.logs / 'serve.log'}")

    def kill_worker(self, n: int) -> None:
        self.workers[n].send_signal(signal.SIGKILL)
        self.workers[n].wait(timeout=10)

    def command(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a `lendgraph` command to its end, its output captured."""
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def thread_deaths(self) -> list[str]:
        """Threads that died of an exception in any process since last asked (their process
        may go on running without them), from the logs: "log: thread name: the error"."""
        deaths = []
        for log in sorted(self.logs.glob("*.log")):
            with log.open("rb") as text:
                text.seek(self._read_up_to.get(log.name, 0))
                new = text.read().decode(errors="replace")
                self._read_up_to[log.name] = text.tell()
            deaths += [f"{log.stem}: {death}" for death in _thread_deaths(new)]
        return deaths

    def exited(self) -> list[str]:
        """The long-lived processes that are no longer running."""
        named = [("serve", self.api), ("scheduler", self.scheduler)]
        named += [(f"worker-{n}", w) for n, w in enumerate(self.workers)]
        return [f"{name} (exit {p.returncode})" for name, p in named if p and p.poll() is not None]

    def stop(self) -> None:
        """SIGTERM to every process group started, then SIGKILL to whatever is left."""
        for process in self._started:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self._started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self._started:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)


def _thread_deaths(log: str) -> list[str]:
    """'thread name: the error' for each "Exception in thread" traceback in `log`."""
    deaths, thread = [], None
    for line in log.splitlines():
        started = THREAD_DIED.match(line)
        if started:
            thread = started.group(1)
        elif thread is not None and line and not line[0].isspace() and ERROR.match(line):
            deaths.append(f"thread {thread!r} died: {line[:160]}")
            thread = None
    return deaths


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the process group `process` leads (uvicorn's worker processes too)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
