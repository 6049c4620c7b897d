"""What one fault left, as a row of the run's table, and the run's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMNS = (
    ("fault", 24),
    ("acked", 6),
    ("stored", 6),
    ("lost", 5),
    ("unacked", 7),
    ("events", 11),
    ("missed", 6),
    ("unsign.", 7),
    ("dup", 4),
    ("stuck", 5),
    ("emails", 6),
    ("pay s", 6),
    ("events s", 8),
    ("relay s", 7),
    ("leader", 6),
)
LEGEND = """\
acked    payments the clients saw acknowledged     stored   payments in the database
lost     acknowledged, not stored (must be 0)      unacked  stored, the client gave up on it
events   paymentReceived heard/expected over all subscribers, by (loan number, sequence)
missed   not heard by a subscriber that was told (an error, a closed connection)
unsign.  not heard by a subscriber never told (must be 0)       dup  heard twice
stuck    outbox messages undispatched after settling (must be 0)
emails   notifications not emailed after settling (must be 0)
pay s    seconds from the repair to the first acknowledged payment
events s seconds from the repair to the first event heard
relay s  seconds the outbox relay took to send a message left for it after the repair
leader   a scheduler holds the leader lock after settling"""


@dataclass
class Outcome:
    fault: str
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    unacknowledged: int = 0
    events_heard: int = 0
    events_expected: int = 0
    missed_signalled: int = 0
    missed_unsignalled: int = 0
    duplicates: int = 0
    stuck: int = 0
    emails_pending: int = 0
    payments_back: float | None = None
    events_back: float | None = None
    relay_back: float | None = None
    leader: bool = False
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def judge(self) -> None:
        """Add a failure for each broken invariant."""
        broken = [
            (self.lost, "acknowledged payments missing from the database"),
            (self.missed_unsignalled, "events missed by a subscriber that was never told"),
            (self.stuck, "outbox messages still undispatched after settling"),
            (self.emails_pending, "notifications still not emailed after settling"),
        ]
        self.failures += [f"{count} {what}" for count, what in broken if count]
        if self.payments_back is None:
            self.failures.append("no payment was acknowledged after the repair")
        if not self.leader:
            self.failures.append("no scheduler holds the leader lock")

    def cells(self) -> list[str]:
        return [
            self.fault,
            *(str(n) for n in (self.acknowledged, self.stored, self.lost, self.unacknowledged)),
            f"{self.events_heard}/{self.events_expected}",
            *(str(n) for n in (self.missed_signalled, self.missed_unsignalled, self.duplicates)),
            *(str(n) for n in (self.stuck, self.emails_pending)),
            *(_seconds(s) for s in (self.payments_back, self.events_back, self.relay_back)),
            "yes" if self.leader else "NO",
        ]


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def _line(cells: list[str]) -> str:
    return " ".join(
        cell.ljust(width) if n == 0 else cell.rjust(width)
        for n, (cell, (_, width)) in enumerate(zip(cells, COLUMNS, strict=True))
    )


def table(outcomes: list[Outcome]) -> str:
    lines = [_line([name for name, _ in COLUMNS])]
    lines += [_line(outcome.cells()) for outcome in outcomes]
    for outcome in outcomes:
        lines += [f"{outcome.fault}: {note}" for note in outcome.notes]
        lines += [f"{outcome.fault}: FAILED: {failure}" for failure in outcome.failures]
    return "\n".join([*lines, "", LEGEND])
