"""The simulated core banking system's book of customers: KYC and monthly transaction records,
the same for the same customer number on every run (seeded from the number, never the clock).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENERATED_BASE = 500_000_000
# Records are anchored to a fixed month so that answers never change with the calendar.
ANCHOR_YEAR, ANCHOR_MONTH = 2025, 6
OPENED = datetime(2019, 3, 1, 8, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Profile:
    """What a customer's records average to; the scoring engine reads exactly these means."""

    mean_balance: int
    mean_credit: int
    months: int
    bounced: tuple[int, ...]  # bounced cheques per month, newest first, padded with zeros


# Means sit mid-band so the scoring engine's floors land where the brief says:
# score = 300 + mean(balance) // 1000, limit = mean(credit) * 0.5 // 1000 * 1000.
REFERENCE_PROFILES: dict[str, Profile] = {
    "234774784": Profile(264_500, 61_000, 6, (0, 1, 0, 0, 0, 1)),  # score 564, limit 30000
    "318411216": Profile(412_000, 101_000, 5, (0, 0, 0, 0, 0)),  # score 712, limit 50000
    "340397370": Profile(48_000, 21_000, 4, (1, 0, 0, 0)),  # score 348, limit 10000
    "366585630": Profile(155_000, 81_000, 6, (1, 0, 2, 0, 1, 0)),  # 4 bounced: excluded
    "397178638": Profile(96_000, 41_000, 3, (0, 0, 1)),  # score 396, limit 20000
}

REFERENCE_KYC: dict[str, dict[str, Any]] = {
    "234774784": {
        "firstName": "Wanjiru",
        "middleName": "Njeri",
        "lastName": "Kamau",
        "gender": "FEMALE",
        "dob": datetime(1988, 3, 14, tzinfo=UTC),
        "idNumber": "28457391",
        "mobile": "+254712345678",
        "monthlyIncome": 85000.0,
    },
    "318411216": {
        "firstName": "Otieno",
        "middleName": "Juma",
        "lastName": "Odhiambo",
        "gender": "MALE",
        "dob": datetime(1979, 11, 2, tzinfo=UTC),
        "idNumber": "21093845",
        "mobile": "+254722918364",
        "monthlyIncome": 210000.0,
    },
    "340397370": {
        "firstName": "Achieng",
        "middleName": "Atieno",
        "lastName": "Ouma",
        "gender": "FEMALE",
        "dob": datetime(1996, 7, 21, tzinfo=UTC),
        "idNumber": "34872610",
        "mobile": "+254733507281",
        "monthlyIncome": 32000.0,
    },
    "366585630": {
        "firstName": "Kiprono",
        "middleName": "Kibet",
        "lastName": "Mutai",
        "gender": "MALE",
        "dob": datetime(1984, 1, 9, tzinfo=UTC),
        "idNumber": "25716093",
        "mobile": "+254701662940",
        "monthlyIncome": 140000.0,
    },
    "397178638": {
        "firstName": "Mwende",
        "middleName": "Nduku",
        "lastName": "Mutua",
        "gender": "FEMALE",
        "dob": datetime(1991, 5, 30, tzinfo=UTC),
        "idNumber": "30128457",
        "mobile": "+254745203117",
        "monthlyIncome": 67500.0,
    },
}
REFERENCE_CUSTOMERS: tuple[str, ...] = tuple(REFERENCE_KYC)

FIRST_NAMES = {
    "MALE": ("Baraka", "Mwangi", "Kipchoge", "Omondi", "Mutiso", "Wekesa", "Chege", "Korir"),
    "FEMALE": ("Akinyi", "Wambui", "Chebet", "Nyokabi", "Zawadi", "Wairimu", "Kendi", "Nafula"),
}
LAST_NAMES = ("Kariuki", "Njoroge", "Ochieng", "Kiplagat", "Wafula", "Maina", "Onyango", "Kilonzo")


def kyc_of(number: str, generated: int = 0) -> dict[str, Any] | None:
    """The customer's KYC under the WSDL's field names, or None for an unknown number."""
    if number in REFERENCE_KYC:
        base = REFERENCE_KYC[number]
    elif _is_generated(number, generated):
        base = _generated_kyc(_seeded(number))
    else:
        return None
    first, last = base["firstName"].lower(), base["lastName"].lower()
    return {
        "createdAt": OPENED,
        "createdDate": OPENED,
        "customerNumber": number,
        "email": f"{first}.{last}@example.co.ke",
        "id": int(number),
        "idType": "NATIONAL_ID",
        "status": "ACTIVE",
        "updatedAt": OPENED,
        **base,
    }


def transactions_of(number: str, generated: int = 0) -> list[dict[str, Any]]:
    """The customer's monthly transaction records, newest first; empty for an unknown number."""
    if number in REFERENCE_PROFILES:
        profile = REFERENCE_PROFILES[number]
    elif _is_generated(number, generated):
        profile = _generated_profile(_seeded(f"profile-{number}"))
    else:
        return []
    rng = _seeded(f"transactions-{number}")
    balances = _spread(rng, profile.mean_balance, profile.months)
    credits = _spread(rng, profile.mean_credit, profile.months)
    bounced = [*profile.bounced, *[0] * profile.months][: profile.months]
    return [
        _record(
            rng,
            number,
            month,
            balance=balances[month],
            credit=credits[month],
            bounced=bounced[month],
        )
        for month in range(profile.months)
    ]


def _seeded(seed: str) -> random.Random:
    return random.Random(seed)  # noqa: S311 - made-up bank data, reproducible on purpose, no secret


def _is_generated(number: str, generated: int) -> bool:
    return number.isdigit() and GENERATED_BASE < int(number) <= GENERATED_BASE + generated


def _generated_kyc(rng: random.Random) -> dict[str, Any]:
    gender = rng.choice(("MALE", "FEMALE"))
    return {
        "firstName": rng.choice(FIRST_NAMES[gender]),
        "middleName": rng.choice(FIRST_NAMES[gender]),
        "lastName": rng.choice(LAST_NAMES),
        "gender": gender,
        "dob": datetime(
            rng.randint(1960, 2003), rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC
        ),
        "idNumber": str(rng.randint(20_000_000, 39_999_999)),
        "mobile": f"+2547{rng.randint(0, 99_999_999):08d}",
        "monthlyIncome": float(rng.randrange(15_000, 400_000, 500)),
    }


def _generated_profile(rng: random.Random) -> Profile:
    months = rng.randint(3, 6)
    # Generated customers stay below the bounced-cheques exclusion (fewer than 3 in all).
    bounced = [0] * months
    for _ in range(rng.randint(0, 2)):
        bounced[rng.randrange(months)] += 1
    return Profile(
        mean_balance=rng.randrange(20_000, 600_000, 500),
        mean_credit=rng.randrange(10_000, 200_000, 500),
        months=months,
        bounced=tuple(bounced),
    )


def _spread(rng: random.Random, mean: int, months: int) -> list[int]:
    """Whole-shilling monthly values whose mean is exactly `mean` (floats sum them exactly)."""
    values = [mean + rng.randint(-mean // 5, mean // 5) for _ in range(months - 1)]
    return [*values, mean * months - sum(values)]


def _month_end(months_back: int, day: int = 28) -> datetime:
    year, month = divmod(ANCHOR_YEAR * 12 + ANCHOR_MONTH - 1 - months_back, 12)
    return datetime(year, month + 1, day, 18, 0, tzinfo=UTC)


def _record(
    rng: random.Random, number: str, month: int, *, balance: int, credit: int, bounced: int
) -> dict[str, Any]:
    debit = round(credit * rng.uniform(0.8, 0.98))
    return {
        "accountNumber": f"01{number}",
        "createdAt": _month_end(month),
        "createdDate": _month_end(month),
        "id": int(number) * 10 + month,
        "intrestAmount": round(balance * 0.0025),
        "lastTransactionDate": _month_end(month, 27),
        "lastTransactionType": rng.choice(("CREDIT", "DEBIT")),
        "lastTransactionValue": rng.randint(500, 25_000),
        "updatedAt": _month_end(month),
        "bouncedChequesDebitNumber": bounced,
        "bouncedchequescreditNumber": 0,
        "bouncedchequetransactionscrAmount": 0.0,
        "maxbouncedchequetransactionscr": 0.0,
        "minbouncedchequetransactionscr": 0.0,
        "bouncedchequetransactionsdrAmount": float(bounced * rng.randint(2_000, 9_000)),
        "monthlyBalance": float(balance),
        "overdraftLimit": float(rng.choice((0, 10_000, 25_000, 50_000))),
        "transactionValue": float(credit + debit),
        **_channels(rng, "credit", credit),
        **_channels(rng, "debit", debit),
    }


# Which WSDL fields carry each channel's amount / count / largest / smallest, per direction.
CHANNEL_FIELDS = {
    "credit": (
        (
            "credittransactionsAmount",
            None,
            "maxmonthlycredittransactions",
            "minmonthlycredittransactions",
        ),
        (
            "mobilemoneycredittransactionAmount",
            "mobilemoneycredittransactionNumber",
            "maxmobilemoneycredittrn",
            "minmobilemoneycredittrn",
        ),
        (
            "alternativechanneltrnscrAmount",
            "alternativechanneltrnscrNumber",
            "maxalternativechanneltrnscr",
            "minalternativechanneltrnscr",
        ),
        (
            "fincominglocaltransactioncrAmount",
            "incominglocaltransactioncrNumber",
            "maxincominglocaltransactioncr",
            "minincominglocaltransactioncr",
        ),
        (
            "incominginternationaltrncrAmount",
            "incominginternationaltrncrNumber",
            "maxincominginternationaltrncr",
            "minincominginternationaltrncr",
        ),
    ),
    "debit": (
        (
            "monthlydebittransactionsAmount",
            None,
            "maxMonthlyBebitTransactions",
            "minMonthlyDebitTransactions",
        ),
        (
            "mobilemoneydebittransactionAmount",
            "mobilemoneydebittransactionNumber",
            "maxmobilemoneydebittransaction",
            "minmobilemoneydebittransaction",
        ),
        (
            "atmtransactionsAmount",
            "atmTransactionsNumber",
            "maxAtmTransactions",
            "minAtmTransactions",
        ),
        (
            "debitcardpostransactionsAmount",
            "debitcardpostransactionsNumber",
            "maxdebitcardpostransactions",
            "mindebitcardpostransactions",
        ),
        (
            "chequeDebitTransactionsAmount",
            "chequeDebitTransactionsNumber",
            "maxchequedebittransactions",
            "minchequedebittransactions",
        ),
        (
            "alternativechanneltrnsdebitAmount",
            "alternativechanneltrnsdebitNumber",
            "maxalternativechanneltrnsdebit",
            "minalternativechanneltrnsdebit",
        ),
        (
            "outgoinglocaltransactiondebitAmount",
            "outgoinglocaltransactiondebitNumber",
            "maxoutgoinglocaltrndebit",
            "minoutgoinglocaltrndebit",
        ),
        (
            "outgoinginttransactiondebitAmount",
            "outgoinginttrndebitNumber",
            "maxoutgoinginttrndebit",
            "minoutgoinginttrndebit",
        ),
        (
            "overthecounterwithdrawalsAmount",
            "overthecounterwithdrawalsNumber",
            "maxoverthecounterwithdrawals",
            "minoverthecounterwithdrawals",
        ),
    ),
}


def _channels(rng: random.Random, direction: str, total: int) -> dict[str, Any]:
    """Split a month's total across channels; the first row of each direction is the total."""
    rows = CHANNEL_FIELDS[direction]
    shares = [rng.uniform(0.5, 1.5) for _ in rows[1:]]
    parts = [total, *(round(total * share / sum(shares)) for share in shares)]
    fields: dict[str, Any] = {}
    for (amount, count, largest, smallest), part in zip(rows, parts, strict=True):
        number = max(1, part // rng.randint(1_500, 6_000)) if part else 0
        if amount:
            fields[amount] = float(part)
        if count:
            fields[count] = number
        # One transaction is its own largest and smallest; otherwise spread around the mean.
        single = number <= 1
        fields[largest] = float(part if single else round(min(part, part / number * 2.5)))
        fields[smallest] = float(part if single else round(part / number * 0.2))
    return fields
