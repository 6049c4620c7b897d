"""Customer facts and their checks: approved limit (RULES.md §1) and field validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import FieldProblem, InvalidInput
from domain.money import Money

LIMIT_MULTIPLIER = 36
LIMIT_ROUNDING_STEP = Decimal(100_000)  # one lakh
MIN_AGE, MAX_AGE = 18, 100
PHONE = re.compile(r"^\+?[0-9]{7,15}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s]{2,63}$")  # at most 254 in all
MAX_MONTHLY_INCOME = Decimal(10) ** 12  # far above any salary; keeps sums inside BIGINT
NATIONAL_ID = re.compile(r"^[A-Za-z0-9-]{6,64}$")  # opaque: UUIDs and 12-digit Aadhar alike
NAME_MAX = 100


def approved_limit(monthly_income: Money) -> Money:
    """36 × monthly salary, rounded half-up to the nearest lakh (RULES.md §1)."""
    raw = monthly_income.amount * LIMIT_MULTIPLIER / LIMIT_ROUNDING_STEP
    lakhs = raw.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(lakhs * LIMIT_ROUNDING_STEP, monthly_income.currency)


def monthly_from_annual(annual_income: Money) -> Money:
    """Annual ÷ 12 at full precision (the limit is computed from this; RULES.md §0 rounding
    fixes a figure only when it is stored)."""
    return Money(annual_income.amount / 12, annual_income.currency)


def normalise_phone(phone: str) -> str:
    """One written form per number: spaces, dashes, dots and brackets dropped."""
    return re.sub(r"[\s().-]", "", phone)


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Problems:
    """Collects every invalid field, then refuses them all at once."""

    found: list[FieldProblem]

    @classmethod
    def new(cls) -> Problems:
        return cls([])

    def check(self, ok: bool, field: str, message: str) -> None:
        if not ok:
            self.found.append(FieldProblem(field, message))

    def raise_if_any(self) -> None:
        if self.found:
            raise InvalidInput(list(self.found))


def check_name(problems: Problems, field: str, value: str) -> None:
    problems.check(0 < len(value.strip()) <= NAME_MAX, field, f"1-{NAME_MAX} characters")


def check_age(problems: Problems, age: int | None) -> None:
    problems.check(age is not None, "age", "give an age or a date of birth")
    if age is not None:
        problems.check(MIN_AGE <= age <= MAX_AGE, "age", f"must be between {MIN_AGE} and {MAX_AGE}")


def check_phone(problems: Problems, phone: str) -> None:
    problems.check(bool(PHONE.match(phone)), "phone", "7-15 digits, optionally starting with +")


def check_email(problems: Problems, email: str | None) -> None:
    if email is not None:
        problems.check(bool(EMAIL.match(email)), "email", "is not an email address")


def check_national_id(problems: Problems, national_id: str | None) -> None:
    if national_id is not None:
        problems.check(
            bool(NATIONAL_ID.match(national_id)), "nationalId", "6-64 letters, digits or dashes"
        )


def check_income(problems: Problems, field: str, income: Money | None, divisor: int = 1) -> None:
    """`divisor`: 12 for an annual income (the bound is on the monthly figure)."""
    if income is not None:
        problems.check(income.is_positive(), field, "must be more than zero")
        problems.check(
            income.amount == income.rounded().amount,
            field,
            "has more decimals than the currency allows",
        )
        problems.check(income.amount <= MAX_MONTHLY_INCOME * divisor, field, "is too large")
