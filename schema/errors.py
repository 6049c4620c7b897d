"""Typed errors: every expected failure is a union member implementing `Error`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from domain import errors as domain
from domain.billing.calendar import BusinessDateFixed
from domain.core_banking import CoreBankingUnavailable, CustomerNotInCoreBanking
from domain.customers import CustomerNotFound, DuplicateCustomer
from domain.onboarding import CustomerAlreadySubscribed, KycUnusable
from domain.origination import ApplicationPending, NotACoreBankingCustomer
from domain.payments import (
    LoanClosed,
    LoanNotDisbursed,
    LoanNotFound,
    PaymentExceedsOutstanding,
    PaymentMustMatchInstallment,
    PaymentsNotAccepted,
)
from domain.products import ProductCodeTaken, ProductNotFound
from domain.providers import InsufficientFunds, ProviderNotFound
from schema.scalars import Money


@strawberry.interface(description="An expected failure. `code` is stable; `message` is for people.")
class Error:
    message: str = strawberry.field(description="What went wrong, in plain words.")
    code: str = strawberry.field(description="A stable machine-readable code, e.g. INVALID_INPUT.")


@strawberry.type(description="One input field that failed validation.")
class FieldError:
    field: str = strawberry.field(description="The input field's name.")
    message: str = strawberry.field(description="Why its value was refused.")


@strawberry.type(description="The input was invalid; nothing was changed.")
class InvalidInputError(Error):
    fields: list[FieldError] = strawberry.field(description="Every invalid field and why.")


@strawberry.type(description="This operation needs a signed-in user.")
class NotAuthenticatedError(Error):
    pass


@strawberry.type(description="The signed-in user may not do this.")
class PermissionDeniedError(Error):
    pass


@strawberry.type(description="The username or password is wrong (which one is not said).")
class InvalidCredentialsError(Error):
    pass


@strawberry.type(description="Sign-in for this username is paused after repeated failures.")
class TooManyLoginAttemptsError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until sign-in is allowed again."
    )


@strawberry.type(
    description="Too many anonymous attempts (sign-in, token refresh, self sign-up) from this "
    "client address or naming this username; nothing was tried. Wait and try again."
)
class RateLimitedError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until the next attempt is allowed."
    )


@strawberry.type(description="The refresh token is invalid, expired, revoked or was reused.")
class InvalidRefreshTokenError(Error):
    pass


@strawberry.type(description="Another user already has this username.")
class UsernameTakenError(Error):
    username: str = strawberry.field(description="The username that is taken.")


@strawberry.type(description="You already used this idempotency key for a different request.")
class IdempotencyConflictError(Error):
    key: str = strawberry.field(description="The idempotency key that conflicts.")


@strawberry.type(description="Another customer already has this phone number or national id.")
class DuplicateCustomerError(Error):
    field: str = strawberry.field(description="Which detail is taken.")


@strawberry.type(description="No such customer, or not one the viewer may see.")
class CustomerNotFoundError(Error):
    pass


@strawberry.type(description="No loan product has this code.")
class ProductNotFoundError(Error):
    product_code: str = strawberry.field(description="The code asked for.")


@strawberry.type(description="Another loan product already has this code.")
class ProductCodeTakenError(Error):
    product_code: str = strawberry.field(description="The code that is taken.")


@strawberry.type(description="An earlier application for this product is still undecided.")
class ApplicationPendingError(Error):
    pass


@strawberry.type(description="The balance is smaller than the amount; nothing moved.")
class InsufficientFundsError(Error):
    balance: Money = strawberry.field(description="What the balance holds.")


@strawberry.type(description="No such provider, or not one the viewer may act for.")
class ProviderNotFoundError(Error):
    pass


@strawberry.type(description="No such loan, or not one the viewer may see.")
class LoanNotFoundError(Error):
    pass


@strawberry.type(description="The loan is closed (paid, rejected or failed): nothing is owed.")
class LoanClosedError(Error):
    pass


@strawberry.type(description="The loan has not been paid out yet, so nothing is owed on it.")
class LoanNotDisbursedError(Error):
    pass


@strawberry.type(
    description="This loan takes no payments here: imported loans are repaid in the "
    "system they came from."
)
class PaymentsNotAcceptedError(Error):
    pass


@strawberry.type(description="The amount is more than can be paid on the loan on that date.")
class PaymentExceedsOutstandingError(Error):
    payable: Money = strawberry.field(
        description="The most that can be paid: everything owed, or for EMI loans the "
        "dues of the current period plus the principal left (the pay-off amount)."
    )


@strawberry.type(description="This loan takes exactly the amount of its oldest unpaid installment.")
class PaymentMustMatchInstallmentError(Error):
    expected: Money = strawberry.field(description="The amount to pay.")


@strawberry.type(description="The core banking system knows no customer with this number.")
class CustomerNotInCoreBankingError(Error):
    customer_number: str = strawberry.field(description="The number asked for.")


@strawberry.type(
    description="The core banking system could not be reached, timed out or answered with "
    "something its WSDL does not allow (code CORE_BANKING_BAD_REPLY); nothing was stored."
)
class CoreBankingUnavailableError(Error):
    pass


@strawberry.type(
    description="The core banking KYC record lacks, or garbles, what a loan customer needs "
    "(names, mobile, birth date, income...); nothing was stored."
)
class KycUnusableError(Error):
    fields: list[FieldError] = strawberry.field(description="Each KYC field and what is wrong.")


@strawberry.type(description="A customer with this core banking number is already subscribed.")
class CustomerAlreadySubscribedError(Error):
    customer_number: str = strawberry.field(description="The number asked for.")


@strawberry.type(
    description="The product is scored from the core banking system: subscribe the "
    "customer from it first."
)
class NotACoreBankingCustomerError(Error):
    pass


@strawberry.type(description="The business date follows the clock in production.")
class BusinessDateFixedError(Error):
    pass


def _invalid_input(error: domain.InvalidInput) -> InvalidInputError:
    return InvalidInputError(
        message=error.message,
        code=error.code,
        fields=[FieldError(field=p.field, message=p.message) for p in error.problems],
    )


def _plain(error_type: Callable[..., Error]) -> Callable[[Any], Error]:
    """The builder for an error that carries only its message and code."""
    return lambda error: error_type(message=error.message, code=error.code)


_BUILDERS: dict[type[domain.DomainError], Callable[[Any], Error]] = {
    domain.InvalidInput: _invalid_input,
    domain.NotAuthenticated: _plain(NotAuthenticatedError),
    domain.PermissionDenied: _plain(PermissionDeniedError),
    domain.InvalidCredentials: _plain(InvalidCredentialsError),
    domain.TooManyLoginAttempts: lambda e: TooManyLoginAttemptsError(
        message=e.message, code=e.code, retry_after_seconds=e.retry_after_seconds
    ),
    domain.RateLimited: lambda e: RateLimitedError(
        message=e.message, code=e.code, retry_after_seconds=e.retry_after_seconds
    ),
    domain.InvalidRefreshToken: _plain(InvalidRefreshTokenError),
    domain.UsernameTaken: lambda e: UsernameTakenError(
        message=e.message, code=e.code, username=e.username
    ),
    domain.IdempotencyConflict: lambda e: IdempotencyConflictError(
        message=e.message, code=e.code, key=e.key
    ),
    DuplicateCustomer: lambda e: DuplicateCustomerError(
        message=e.message, code=e.code, field=e.field
    ),
    CustomerNotFound: _plain(CustomerNotFoundError),
    ProductNotFound: lambda e: ProductNotFoundError(
        message=e.message, code=e.code, product_code=e.product_code
    ),
    ProductCodeTaken: lambda e: ProductCodeTakenError(
        message=e.message, code=e.code, product_code=e.product_code
    ),
    ApplicationPending: _plain(ApplicationPendingError),
    InsufficientFunds: lambda e: InsufficientFundsError(
        message=e.message, code=e.code, balance=Money.from_domain(e.balance)
    ),
    ProviderNotFound: _plain(ProviderNotFoundError),
    LoanNotFound: _plain(LoanNotFoundError),
    LoanClosed: _plain(LoanClosedError),
    LoanNotDisbursed: _plain(LoanNotDisbursedError),
    PaymentsNotAccepted: _plain(PaymentsNotAcceptedError),
    PaymentExceedsOutstanding: lambda e: PaymentExceedsOutstandingError(
        message=e.message, code=e.code, payable=Money.from_domain(e.payable)
    ),
    CustomerNotInCoreBanking: lambda e: CustomerNotInCoreBankingError(
        message=e.message, code=e.code, customer_number=e.customer_number
    ),
    CoreBankingUnavailable: _plain(CoreBankingUnavailableError),
    KycUnusable: lambda e: KycUnusableError(
        message=e.message,
        code=e.code,
        fields=[FieldError(field=p.field, message=p.message) for p in e.problems],
    ),
    CustomerAlreadySubscribed: lambda e: CustomerAlreadySubscribedError(
        message=e.message, code=e.code, customer_number=e.customer_number
    ),
    NotACoreBankingCustomer: _plain(NotACoreBankingCustomerError),
    BusinessDateFixed: _plain(BusinessDateFixedError),
    PaymentMustMatchInstallment: lambda e: PaymentMustMatchInstallmentError(
        message=e.message, code=e.code, expected=Money.from_domain(e.expected)
    ),
}


def to_graphql_error(error: domain.DomainError) -> Error:
    """The union member for a domain error; an unmapped one is a bug and is raised (masked)."""
    for cls in type(error).__mro__:
        builder = _BUILDERS.get(cls)
        if builder is not None:
            return builder(error)
    raise error


def outcome(value: Any, success: Callable[[Any], Any]) -> Any:
    """Map a resolver's outcome to the success type or the typed error."""
    if isinstance(value, domain.DomainError):
        return to_graphql_error(value)
    return success(value)


def outcome_of(call: Callable[[], Any], success: Callable[[Any], Any]) -> Any:
    """`outcome` of a call whose input may be refused before any use case runs (an id that
    names no object of the right type): the refusal is the typed InvalidInputError too."""
    try:
        value = call()
    except domain.InvalidInput as error:
        value = error
    return outcome(value, success)
