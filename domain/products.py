"""Loan products: what each lending business offers, and the bank's P2P settings (RULES.md §0, §2).

Five products ship with Lendgraph (see the catalogue migration) and staff may change them.
A product names how it is priced, decided, funded and repaid; the engine does the rest.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from domain.errors import DomainError, FieldProblem, InvalidInput
from domain.money import MINOR_UNIT_EXPONENTS, Money
from domain.rates import PercentRate

T = TypeVar("T")


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(cls, name=name, native_enum=False, length=24)


class TermUnit(enum.StrEnum):
    MONTH = "MONTH"
    WEEK = "WEEK"
    DAY = "DAY"


class RepaymentStyle(enum.StrEnum):
    EMI_REDUCING = "EMI_REDUCING"  # §1: monthly EMI on a reducing balance
    FLAT_INSTALLMENTS = "FLAT_INSTALLMENTS"  # §5: flat interest, equal installments
    REVOLVING = "REVOLVING"  # §4: 30-day bills with minimum dues
    FLAT_SINGLE = "FLAT_SINGLE"  # §2: amount × (1 + rate), due once


class RateMode(enum.StrEnum):
    FIXED = "FIXED"  # the product's rate, whatever is asked
    REQUESTED = "REQUESTED"  # the customer's rate, which policy may correct upwards


class EligibilityPolicy(enum.StrEnum):
    LOAN_HISTORY_SCORE = "LOAN_HISTORY_SCORE"
    TRANSACTION_SCORE = "TRANSACTION_SCORE"
    EXTERNAL_SCORE = "EXTERNAL_SCORE"
    LIMITS_ONLY = "LIMITS_ONLY"


class FundingSource(enum.StrEnum):
    BANK = "BANK"
    PROVIDERS = "PROVIDERS"


class PaymentRule(enum.StrEnum):
    ANY_AMOUNT = "ANY_AMOUNT"
    EXACT_INSTALLMENT = "EXACT_INSTALLMENT"


class DelinquencyRule(enum.StrEnum):
    NONE = "NONE"
    TWO_MISSED_IN_A_ROW = "TWO_MISSED_IN_A_ROW"  # §5


class LoanProduct(SQLModel, table=True):
    __tablename__ = "loan_products"
    __table_args__ = (
        sa.CheckConstraint(
            "amount_min_minor > 0 AND amount_min_minor <= amount_max_minor", name="amount_range"
        ),
        sa.CheckConstraint("term_min > 0 AND term_min <= term_max", name="term_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, sa_column_kwargs={"unique": True, "nullable": False})
    name: str = Field(max_length=100)
    currency: str = Field(max_length=3)
    amount_min_minor: int = Field(sa_type=sa.BigInteger)
    amount_max_minor: int = Field(sa_type=sa.BigInteger)
    term_min: int
    term_max: int
    term_unit: TermUnit = Field(sa_type=_enum(TermUnit, "term_unit"))
    repayment_style: RepaymentStyle = Field(sa_type=_enum(RepaymentStyle, "repayment_style"))
    interest_rate: Decimal = Field(sa_type=PercentRate)
    minimum_rate: Decimal = Field(default=Decimal(0), sa_type=PercentRate)
    rate_mode: RateMode = Field(sa_type=_enum(RateMode, "rate_mode"))
    eligibility_policy: EligibilityPolicy = Field(sa_type=_enum(EligibilityPolicy, "eligibility"))
    funding_source: FundingSource = Field(sa_type=_enum(FundingSource, "funding_source"))
    payment_rule: PaymentRule = Field(sa_type=_enum(PaymentRule, "payment_rule"))
    delinquency_rule: DelinquencyRule = Field(sa_type=_enum(DelinquencyRule, "delinquency"))
    # Borrowers are reminded this many days before each due date (0: no reminders).
    reminder_days: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    active: bool = True

    @property
    def amount_min(self) -> Money:
        return Money.from_minor(self.amount_min_minor, self.currency)

    @property
    def amount_max(self) -> Money:
        return Money.from_minor(self.amount_max_minor, self.currency)


class BankConfig(SQLModel, table=True):
    """The P2P pool's terms (RULES.md §2); exactly one row."""

    __tablename__ = "bank_config"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint(
            "min_amount_minor > 0 AND min_amount_minor <= max_amount_minor", name="amount_range"
        ),
        sa.CheckConstraint("duration_days > 0", name="positive_duration"),
    )

    id: int = Field(default=1, primary_key=True)
    currency: str = Field(default="INR", max_length=3)
    min_amount_minor: int = Field(sa_type=sa.BigInteger)
    max_amount_minor: int = Field(sa_type=sa.BigInteger)
    interest_rate: Decimal = Field(sa_type=PercentRate)
    duration_days: int

    @property
    def min_amount(self) -> Money:
        return Money.from_minor(self.min_amount_minor, self.currency)

    @property
    def max_amount(self) -> Money:
        return Money.from_minor(self.max_amount_minor, self.currency)


class ProductNotFound(DomainError):
    code = "PRODUCT_NOT_FOUND"

    def __init__(self, code: str) -> None:
        super().__init__(f"There is no loan product {code!r}.")
        self.product_code = code


class ProductCodeTaken(DomainError):
    code = "PRODUCT_CODE_TAKEN"

    def __init__(self, code: str) -> None:
        super().__init__(f"A loan product with code {code!r} already exists.")
        self.product_code = code


@dataclass(frozen=True)
class ProductTerms:
    """The editable terms of a product (None = unchanged, when updating)."""

    name: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    term_min: int | None = None
    term_max: int | None = None
    interest_rate: Decimal | None = None
    minimum_rate: Decimal | None = None
    reminder_days: int | None = None
    active: bool | None = None


def _check_rate(problems: list[FieldProblem], field: str, rate: Decimal | None) -> None:
    if rate is not None and not Decimal(0) <= rate <= Decimal(100):
        problems.append(FieldProblem(field, "must be between 0 and 100 (percent)"))
    elif rate is not None and rate != rate.quantize(Decimal("0.0001")):
        problems.append(FieldProblem(field, "has more than 4 decimal places"))


def _check_money(
    problems: list[FieldProblem], field: str, amount: Decimal | None, currency: str
) -> None:
    if amount is None:
        return
    if amount <= 0:
        problems.append(FieldProblem(field, "must be more than zero"))
    elif Money(amount, currency).rounded().amount != amount:
        problems.append(FieldProblem(field, f"has more decimals than {currency} allows"))
    elif amount > Decimal(10) ** 13:
        problems.append(FieldProblem(field, "is too large"))


def _field_problems(product: LoanProduct, terms: ProductTerms) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    _check_money(problems, "amountMin", terms.amount_min, product.currency)
    _check_money(problems, "amountMax", terms.amount_max, product.currency)
    _check_rate(problems, "interestRate", terms.interest_rate)
    _check_rate(problems, "minimumRate", terms.minimum_rate)
    if terms.name is not None and not 0 < len(terms.name.strip()) <= 100:
        problems.append(FieldProblem("name", "1-100 characters"))
    if terms.reminder_days is not None and not 0 <= terms.reminder_days <= 30:
        problems.append(FieldProblem("reminderDays", "0-30 days"))
    problems += [
        FieldProblem(field, "must be between 1 and 10000")
        for field, term in (("termMin", terms.term_min), ("termMax", terms.term_max))
        if term is not None and not 0 < term <= 10_000
    ]
    return problems


# The longest term each unit allows (schedules are computed per request, so bounded).
TERM_CAPS = {TermUnit.MONTH: 480, TermUnit.WEEK: 520, TermUnit.DAY: 3650}
# Which term units each repayment style is built for.
STYLE_UNITS = {
    RepaymentStyle.EMI_REDUCING: {TermUnit.MONTH},
    RepaymentStyle.REVOLVING: {TermUnit.MONTH},
    RepaymentStyle.FLAT_INSTALLMENTS: {TermUnit.WEEK, TermUnit.MONTH, TermUnit.DAY},
    RepaymentStyle.FLAT_SINGLE: {TermUnit.DAY, TermUnit.MONTH},
}


def _pick(new: T | None, old: T) -> T:
    return old if new is None else new


def apply_terms(product: LoanProduct, terms: ProductTerms) -> LoanProduct:
    """Change a product's terms, refusing inconsistent settings (e.g. min above max)."""
    problems = _field_problems(product, terms)
    if problems:
        raise InvalidInput(problems)
    minimum = _pick(terms.amount_min, product.amount_min.amount)
    maximum = _pick(terms.amount_max, product.amount_max.amount)
    term_min, term_max = (
        _pick(terms.term_min, product.term_min),
        _pick(terms.term_max, product.term_max),
    )
    if minimum > maximum:
        problems.append(FieldProblem("amountMin", "must not be above amountMax"))
    if term_min > term_max:
        problems.append(FieldProblem("termMin", "must not be above termMax"))
    if term_max > TERM_CAPS[product.term_unit]:
        problems.append(
            FieldProblem(
                "termMax",
                f"at most {TERM_CAPS[product.term_unit]} {product.term_unit.value.lower()}s",
            )
        )
    if problems:
        raise InvalidInput(problems)
    product.amount_min_minor = Money(minimum, product.currency).to_minor()
    product.amount_max_minor = Money(maximum, product.currency).to_minor()
    product.term_min, product.term_max = term_min, term_max
    product.name = _pick(terms.name, product.name).strip()
    product.interest_rate = _pick(terms.interest_rate, product.interest_rate)
    product.minimum_rate = _pick(terms.minimum_rate, product.minimum_rate)
    product.active = _pick(terms.active, product.active)
    product.reminder_days = _pick(terms.reminder_days, product.reminder_days)
    return product


def product_by_code(session: Session, code: str) -> LoanProduct:
    product = session.exec(select(LoanProduct).where(LoanProduct.code == code)).first()
    if product is None:
        raise ProductNotFound(code)
    return product


def all_products(session: Session) -> list[LoanProduct]:
    return list(session.exec(select(LoanProduct).order_by(col(LoanProduct.id))).all())


def bank_config(session: Session) -> BankConfig:
    config = session.get(BankConfig, 1)
    if config is None:
        raise RuntimeError("bank_config has no row: run the migrations")
    return config


@dataclass(frozen=True)
class BankConfigChange:
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    interest_rate: Decimal | None = None
    duration_days: int | None = None


def change_bank_config(session: Session, change: BankConfigChange) -> BankConfig:
    """Staff change the P2P terms; loans already made keep the rate and duration they had."""
    config = bank_config(session)
    problems: list[FieldProblem] = []
    _check_money(problems, "minAmount", change.min_amount, config.currency)
    _check_money(problems, "maxAmount", change.max_amount, config.currency)
    _check_rate(problems, "interestRate", change.interest_rate)
    if change.duration_days is not None and not 0 < change.duration_days <= 3650:
        problems.append(FieldProblem("durationDays", "must be between 1 and 3650"))
    minimum = change.min_amount if change.min_amount is not None else config.min_amount.amount
    maximum = change.max_amount if change.max_amount is not None else config.max_amount.amount
    if not problems and minimum > maximum:
        problems.append(FieldProblem("minAmount", "must not be above maxAmount"))
    if problems:
        raise InvalidInput(problems)
    config.min_amount_minor = Money(minimum, config.currency).to_minor()
    config.max_amount_minor = Money(maximum, config.currency).to_minor()
    if change.interest_rate is not None:
        config.interest_rate = change.interest_rate
    if change.duration_days is not None:
        config.duration_days = change.duration_days
    session.add(config)
    session.flush()
    return config


KNOWN_CURRENCIES = tuple(MINOR_UNIT_EXPONENTS)


@dataclass(frozen=True)
class NewProduct:
    """Everything a new product needs; its terms are checked like any change."""

    code: str
    name: str
    currency: str
    amount_min: Decimal
    amount_max: Decimal
    term_min: int
    term_max: int
    term_unit: TermUnit
    repayment_style: RepaymentStyle
    interest_rate: Decimal
    minimum_rate: Decimal
    rate_mode: RateMode
    eligibility_policy: EligibilityPolicy
    funding_source: FundingSource
    payment_rule: PaymentRule
    delinquency_rule: DelinquencyRule


def create_product(session: Session, new: NewProduct) -> LoanProduct:
    problems: list[FieldProblem] = []
    if not (
        2 <= len(new.code) <= 32 and new.code.replace("_", "").isalnum() and new.code.isupper()
    ):
        problems.append(FieldProblem("code", "2-32 capital letters, digits or _"))
    if new.currency not in KNOWN_CURRENCIES:
        problems.append(FieldProblem("currency", f"one of {', '.join(KNOWN_CURRENCIES)}"))
    if new.term_unit not in STYLE_UNITS[new.repayment_style]:
        problems.append(
            FieldProblem(
                "termUnit",
                f"{new.repayment_style.value} is repaid in "
                + " or ".join(sorted(u.value for u in STYLE_UNITS[new.repayment_style])),
            )
        )
    if new.funding_source is FundingSource.PROVIDERS and (
        new.eligibility_policy is not EligibilityPolicy.LIMITS_ONLY
        or new.repayment_style is not RepaymentStyle.FLAT_SINGLE
        or new.currency != bank_config(session).currency
    ):
        problems.append(
            FieldProblem(
                "fundingSource",
                "provider-funded products follow the "
                "P2P pool: LIMITS_ONLY, FLAT_SINGLE, its currency",
            )
        )
    if (
        new.eligibility_policy is EligibilityPolicy.LOAN_HISTORY_SCORE
        and new.repayment_style is not RepaymentStyle.EMI_REDUCING
    ):
        problems.append(
            FieldProblem("eligibilityPolicy", "the loan-history policy decides monthly EMI loans")
        )
    if problems:
        raise InvalidInput(problems)
    if session.exec(select(LoanProduct.id).where(LoanProduct.code == new.code)).first():
        raise ProductCodeTaken(new.code)
    product = LoanProduct(
        code=new.code,
        name=new.name,
        currency=new.currency,
        amount_min_minor=1,
        amount_max_minor=1,
        term_min=1,
        term_max=1,
        term_unit=new.term_unit,
        repayment_style=new.repayment_style,
        interest_rate=Decimal(0),
        rate_mode=new.rate_mode,
        eligibility_policy=new.eligibility_policy,
        funding_source=new.funding_source,
        payment_rule=new.payment_rule,
        delinquency_rule=new.delinquency_rule,
    )
    apply_terms(
        product,
        ProductTerms(
            name=new.name,
            amount_min=new.amount_min,
            amount_max=new.amount_max,
            term_min=new.term_min,
            term_max=new.term_max,
            interest_rate=new.interest_rate,
            minimum_rate=new.minimum_rate,
            active=True,
        ),
    )
    session.add(product)
    session.flush()
    return product


def update_product(session: Session, code: str, terms: ProductTerms) -> LoanProduct:
    product = apply_terms(product_by_code(session, code), terms)
    session.add(product)
    session.flush()
    return product
