"""One fault under load, start to finish: clients pay, the fault breaks and repairs, the load
goes on a little, the system is given time to settle, and then what was acknowledged,
stored, heard and left behind is counted."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from bench.chaos.faults import FAULTS, Repair
from bench.chaos.load import Payers, Payments
from bench.chaos.probes import EventKey
from bench.chaos.report import Outcome
from bench.chaos.world import World


class CanaryWatch:
    """Leaves an event only the outbox relay will send, and times how long it waits."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.seconds: float | None = None
        self._id = world.probes.emit_canary()
        self._started, self._stop = time.monotonic(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._sent() and not self._stop.wait(0.5):
            pass

    def _sent(self) -> bool:
        try:
            if self.seconds is None and self.world.probes.dispatched(self._id):
                self.seconds = time.monotonic() - self._started
        except Exception:  # noqa: S110 - the database may be away again
            pass
        return self.seconds is not None

    def stop(self) -> float | None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sent()  # sent since the last look (then timed a little late)
        return self.seconds


def baseline(world: World, timeout: float = 60) -> str:
    """Before any fault: one payment every subscriber hears (so each is known to be
    subscribed), and the outbox and emails left by seeding drained."""
    payers = Payers(world.fleet.base_url, world.token, world.book.loans[:1], "chaos-base-", 30)
    payers.start()
    time.sleep(0.5)
    payers.stop()
    expected = world.probes.payment_events("chaos-base-")
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        heard = all(expected <= s.events().keys() for s in world.subscribers)
        if expected and heard and _drained(world):
            took = time.monotonic() - started
            return f"baseline: subscribers hear payments; outbox, emails drained ({took:.0f} s)"
        time.sleep(0.5)
    return (
        f"baseline NOT reached in {timeout:.0f} s: {len(expected)} payments, subscribers heard "
        f"{[len(expected & s.events().keys()) for s in world.subscribers]}, "
        f"{world.probes.undispatched()} outbox messages, {world.probes.emails_pending()} emails"
    )


def _drained(world: World) -> bool:
    return world.probes.undispatched() == 0 and world.probes.emails_pending() == 0


def run_fault(world: World, key: str) -> Outcome:
    name, apply = FAULTS[key]
    config, prefix = world.config, f"chaos-{key}-"
    started = time.monotonic()
    pending_before = (world.probes.undispatched(), world.probes.emails_pending())
    duplicates = sum(s.duplicates for s in world.subscribers)
    payers = Payers(world.fleet.base_url, world.token, world.book.loans, prefix, config.patience)
    payers.start()
    time.sleep(config.warmup_seconds)
    repair = apply(world)
    canary = CanaryWatch(world)
    first = _first_after(payers.seen, repair.back_at, config.patience)
    time.sleep(config.after_seconds)
    seen = payers.stop()
    _settle(world, prefix, started, config.settle_seconds)
    outcome = Outcome(name, payments_back=first, relay_back=canary.stop())
    outcome.duplicates = sum(s.duplicates for s in world.subscribers) - duplicates
    _count(world, outcome, seen, Phase(prefix, started, repair, pending_before))
    outcome.judge()
    return outcome


def _first_after(seen: Payments, moment: float, timeout: float) -> float | None:
    """Seconds from `moment` to the first payment acknowledged after it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        after = [at for at in list(seen.acknowledged.values()) if at >= moment]
        if after:
            return min(after) - moment
        time.sleep(0.1)
    return None


def _settled(world: World, expected: set[EventKey], started: float) -> bool:
    heard = all(
        expected <= s.events().keys() for s in world.subscribers if s.continuous_since(started)
    )
    return heard and _drained(world)


def _settle(world: World, prefix: str, started: float, seconds: float) -> None:
    """Give the relay, the event hubs and the mail jobs up to `seconds` to catch up."""
    expected = world.probes.payment_events(prefix)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not _settled(world, expected, started):
        time.sleep(1)


@dataclass(frozen=True)
class Phase:
    prefix: str  # of the idempotency keys of its payments
    started: float
    repair: Repair
    pending_before: tuple[int, int]  # outbox messages and emails left by earlier faults


def _count(world: World, outcome: Outcome, seen: Payments, phase: Phase) -> None:
    prefix, repair = phase.prefix, phase.repair
    stored = world.probes.stored_payments(prefix)
    outcome.acknowledged, outcome.stored = len(seen.acknowledged), len(stored)
    outcome.lost = len(seen.acknowledged.keys() - stored.keys())
    outcome.unacknowledged = len(stored.keys() - seen.acknowledged.keys())
    expected = world.probes.payment_events(prefix)
    _count_events(world, outcome, expected, phase.started, repair.back_at)
    _count_leftovers(world, outcome, phase)
    outcome.emails_pending = world.probes.emails_pending()
    outcome.leader = world.probes.leader() is not None
    outcome.notes += repair.notes + _retries(seen)
    outcome.failures += repair.failures
    outcome.failures += world.fleet.thread_deaths()
    outcome.failures += [f"{p} is no longer running" for p in world.fleet.exited()]


def _count_leftovers(world: World, outcome: Outcome, phase: Phase) -> None:
    """Outbox messages and emails still pending, and what they are."""
    probes = world.probes
    outcome.stuck, outcome.emails_pending = probes.undispatched(), probes.emails_pending()
    if outcome.stuck:
        left = ", ".join(f"{n} x{c}" for n, c in probes.undispatched_by_name().items())
        outcome.notes.append(f"left in the outbox: {left}")
    if outcome.emails_pending:
        jobs = ", ".join(f"{c} {what}" for what, c in probes.emails_pending_by_job().items())
        outcome.notes.append(f"emails not sent: {jobs}")
    stuck, emails = phase.pending_before
    if stuck or emails:
        outcome.notes.append(f"pending before this fault: {stuck} messages, {emails} emails")


def _count_events(
    world: World, outcome: Outcome, expected: set[EventKey], started: float, back_at: float
) -> None:
    heard_after = []
    for subscriber in world.subscribers:
        heard = subscriber.events()
        missing = len(expected - heard.keys())
        outcome.events_heard += len(expected) - missing
        outcome.events_expected += len(expected)
        if subscriber.continuous_since(started):
            outcome.missed_unsignalled += missing
        else:
            outcome.missed_signalled += missing
        heard_after += [at for at in heard.values() if at >= back_at]
        signals = subscriber.signals_since(started)
        if signals:
            outcome.notes.append(f"a subscriber was told: {'; '.join(sorted(set(signals)))}")
    outcome.events_back = min(heard_after) - back_at if heard_after else None


def _retries(seen: Payments) -> list[str]:
    notes = []
    if seen.retried:
        tries = ", ".join(f"{error} x{n}" for error, n in seen.retried.most_common())
        notes.append(f"clients retried on: {tries}")
    if seen.gave_up:
        errors = sorted(set(seen.gave_up.values()))
        notes.append(f"clients gave up on {len(seen.gave_up)} payments ({', '.join(errors)})")
    return notes
