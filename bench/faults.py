"""A reproducible fault run (issue 21): production processes on private servers, each fault
applied under load, and what it cost: payments acknowledged vs stored, events missed, stuck
outbox messages, unsent emails, and how long recovery took.

Starts a private PostgreSQL cluster and redis-server on free ports (the shared servers are
never touched) and an SMTP server, migrates a fresh database and seeds a book: a day to
close over CHAOS_CLOSE_LOANS loans (bench/billing.py's), a staff user and CHAOS_CLIENTS
self-signed-up customers with a bank-funded EMI loan each. A clean copy of the day's close
is made first, in a second database, to compare with. Then it runs with production settings
(LENDGRAPH_ENV=production, random JWT and callback secrets) `lendgraph serve --workers 2`,
two `lendgraph worker` and one `lendgraph scheduler`, and applies each fault in turn while
CHAOS_CLIENTS clients pay 10.00 at a time over HTTP (each payment with its own
idempotency key, sent again with the same key on SERVICE_UNAVAILABLE / retryable errors
and on connection errors, until acknowledged or out of patience) and CHAOS_SUBSCRIBERS
staff websockets (graphql-transport-ws) listen to paymentReceived:

  scheduler  pg_terminate_backend on every connection of the scheduler process
  worker     a worker SIGKILLed in the middle of `lendgraph billing run --as-of`, restarted
             2 s later; the close must complete and equal the clean close
  redis      redis-server stopped for CHAOS_REDIS_DOWN_SECONDS, back empty
  postgres   the PostgreSQL cluster stopped (fast shutdown) for CHAOS_PG_DOWN_SECONDS

in that order (least lasting harm first, so that a fault that leaves something broken for
good does not spoil the figures of the others; CHAOS_FAULTS picks and orders them).
After each fault is repaired the load goes on for a few seconds, the system gets up to
CHAOS_SETTLE_SECONDS to catch up, and a row is printed (the legend is printed under the
table). At the end `lendgraph ledger verify` runs. The exit status is 1 when an invariant
broke: an acknowledged payment missing, an event missed without the subscriber being told,
outbox messages or emails left behind, no scheduler leading, a process (or a thread in one)
dead, the close not completed or not equal to a clean one, the ledger not balancing. A
bench with figures, not a test: it is not part of `make test`. Every process and server it
started is stopped on the way out, also on Ctrl-C. The processes' logs stay in
var/chaos/<time>/.

    make chaos                               # or: .venv/bin/python bench/faults.py
    CHAOS_PG_DOWN_SECONDS=10 CHAOS_REDIS_DOWN_SECONDS=8 CHAOS_CLIENTS=4 make chaos
    CHAOS_FAULTS=postgres,redis .venv/bin/python bench/faults.py

Other knobs: CHAOS_SUBSCRIBERS (2), CHAOS_WORKERS (2), CHAOS_WORKER_THREADS (4),
CHAOS_API_WORKERS (2), CHAOS_CLOSE_LOANS (1500), CHAOS_CLOSE_TIMEOUT (240 s),
CHAOS_WARMUP_SECONDS (3), CHAOS_AFTER_SECONDS (5). Needs PostgreSQL's server binaries
(initdb, pg_ctl) and redis-server; run as root, the cluster runs as the postgres user.
"""

from __future__ import annotations

import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chaos.faults import FAULTS
from bench.chaos.fleet import ROOT
from bench.chaos.phase import baseline, run_fault
from bench.chaos.report import Outcome, table
from bench.chaos.world import Config, World, world


def say(line: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {line}", flush=True)


def _ledger(the_world: World) -> tuple[bool, str]:
    done = the_world.fleet.command("ledger", "verify")
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def _run(config: Config, logs: Path) -> tuple[list[Outcome], bool, str, int]:
    outcomes = []
    with world(config, logs, say) as the_world:
        say(baseline(the_world))
        for key in config.faults.split(","):
            say(f"fault: {FAULTS[key][0]} ...")
            outcomes.append(run_fault(the_world, key))
            say(f"fault: {FAULTS[key][0]} done, {len(outcomes[-1].failures)} failures")
        ledger_ok, ledger = _ledger(the_world)
        mails = the_world.mailbox.received
    return outcomes, ledger_ok, ledger, mails


def _stop_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, lambda *_: signal.default_int_handler(signal.SIGINT, None))


def main() -> int:
    config = Config.from_env()
    unknown = set(config.faults.split(",")) - FAULTS.keys()
    if unknown:
        print(f"unknown CHAOS_FAULTS {sorted(unknown)}; known: {', '.join(FAULTS)}")
        return 2
    logs = ROOT / "var" / "chaos" / f"{datetime.now(UTC):%Y%m%d-%H%M%S}"
    logs.mkdir(parents=True)
    _stop_on_sigterm()
    started = time.monotonic()
    try:
        outcomes, ledger_ok, ledger, mails = _run(config, logs)
    except KeyboardInterrupt:
        print(f"interrupted: every process and server the run started is stopped; logs: {logs}")
        return 130
    print()
    print(table(outcomes))
    print()
    print(f"ledger verify: {'OK' if ledger_ok else 'FAILED'}: {ledger}")
    print(f"emails the mail server received: {mails}; logs: {logs}")
    print(f"whole run: {time.monotonic() - started:.0f} s")
    failed = not ledger_ok or any(outcome.failures for outcome in outcomes)
    print("RESULT: FAILED (see the FAILED lines)" if failed else "RESULT: every invariant held")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
