"""The faults, each applied while the load runs: it breaks something, waits, repairs it, and
says when service should be back (the moment recovery times count from), what it saw, and
which of its own promises failed."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.billing import DAY, close_results
from bench.chaos.world import World

FINISHED = ("COMPLETED", "FAILED")


@dataclass
class Repair:
    back_at: float  # monotonic time the fault was repaired
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _wait_for(condition: Callable[[], object], timeout: float, every: float = 0.2) -> float | None:
    """Seconds until `condition()` held (probe errors count as not yet), or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if condition():
                return time.monotonic() - started
        except Exception:  # noqa: S110 - the database may be restarting
            pass
        time.sleep(every)
    return None


def postgres_down(world: World) -> Repair:
    """(a) The PostgreSQL cluster stops (fast shutdown: connections cut) and starts again."""
    seconds = world.config.pg_down_seconds
    world.postgres.stop()
    down_at = time.monotonic()
    time.sleep(seconds)
    world.postgres.start()
    back = time.monotonic()
    return Repair(back, [f"PostgreSQL was down {back - down_at:.1f} s"])


def redis_down(world: World) -> Repair:
    """(b) redis-server stops and starts again, empty (it keeps nothing on disk)."""
    seconds = world.config.redis_down_seconds
    world.redis.stop()
    down_at = time.monotonic()
    time.sleep(seconds)
    world.redis.start()
    back = time.monotonic()
    return Repair(back, [f"Redis was down {back - down_at:.1f} s and came back empty"])


def worker_killed_mid_close(world: World) -> Repair:
    """(c) `lendgraph billing run` closes DAY; once a few chunks are done one worker is
    SIGKILLed and restarted 2 s later (as a supervisor would). The run must complete and
    leave exactly what a clean close of the same day left."""
    fleet, probes, config = world.fleet, world.probes, world.config
    follow = ("--as-of", DAY.isoformat(), "--timeout", str(config.close_timeout))
    follower = fleet.spawn("billing-run", "billing", "run", *follow)
    _wait_for(lambda: probes.close_progress().chunks_done >= 3, 120, every=0.02)
    at_kill = probes.close_progress()
    fleet.kill_worker(0)
    killed_at = time.monotonic()
    done = f"{at_kill.chunks_done}/{at_kill.chunks_total}"
    repair = Repair(killed_at, [f"worker-0 SIGKILLed with {done} chunks closed"])
    if at_kill.status in FINISHED:
        repair.failures.append("the close ended before the kill: raise CHAOS_CLOSE_LOANS")
    time.sleep(2)
    fleet.workers[0] = fleet.start_worker(0, config.worker_threads)
    took = _wait_for(lambda: probes.close_progress().status in FINISHED, config.close_timeout)
    with contextlib.suppress(subprocess.TimeoutExpired):
        follower.wait(timeout=30)  # it follows the run to its end, or to the same timeout
    _judge_close(world, repair, took, killed_at)
    return repair


def _judge_close(world: World, repair: Repair, took: float | None, killed_at: float) -> None:
    final = world.probes.close_progress()
    if took is None or final.status != "COMPLETED":
        repair.failures.append(
            f"the close is {final.status} ({final.chunks_done}/{final.chunks_total} chunks) "
            f"{time.monotonic() - killed_at:.0f} s after the kill"
        )
        return
    repair.notes.append(f"close COMPLETED {time.monotonic() - killed_at:.1f} s after SIGKILL")
    found = close_results(world.database_url, world.book.close_loans)
    differs = [
        name
        for name, rows in world.reference.items()
        if name != "bank ledger" and found[name] != rows  # other loans' payments move it
    ]
    if differs:
        first = differs[0]
        repair.failures.append(
            f"the close differs from a clean close in: {', '.join(differs)} "
            f"({first}: {_difference(found[first], world.reference[first])})"
        )
    else:
        repair.notes.append(
            "close result equals a clean close (accruals, bills, notices, loans, ledger, events)"
        )


def _difference(found: list[tuple[object, ...]], clean: list[tuple[object, ...]]) -> str:
    """The first row only one side has (as sets), or the counts when only duplicates differ."""
    extra, missing = set(found) - set(clean), set(clean) - set(found)
    if extra:
        return f"{len(extra)} rows the clean close lacks, e.g. {min(extra)}"
    if missing:
        return f"{len(missing)} rows of the clean close missing, e.g. {min(missing)}"
    return f"{len(found)} rows here, {len(clean)} in the clean close"


def scheduler_connection_dropped(world: World) -> Repair:
    """(d) pg_terminate_backend on every connection of the scheduler process (its leader
    lock's among them). It must take the lock again and go on relaying the outbox."""
    probes, scheduler = world.probes, world.fleet.scheduler
    assert scheduler is not None
    before = probes.leader()
    dropped = probes.terminate_backends_of(scheduler.pid)
    dropped_at = time.monotonic()
    repair = Repair(dropped_at, [f"{dropped} scheduler connections terminated"])
    if before is None:
        repair.notes.append("no scheduler held the leader lock before the fault")
    again = _wait_for(lambda: probes.leader() not in (None, before), 30)
    if again is None:
        repair.failures.append("no scheduler took the leader lock again within 30 s")
    else:
        repair.notes.append(f"the scheduler led again {again:.1f} s later")
    return repair


FAULTS = {
    "postgres": ("PostgreSQL down", postgres_down),
    "redis": ("Redis down", redis_down),
    "worker": ("worker killed mid-close", worker_killed_mid_close),
    "scheduler": ("scheduler conn. dropped", scheduler_connection_dropped),
}
