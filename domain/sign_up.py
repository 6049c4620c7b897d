"""Self sign-up: a person registers themself with a CUSTOMER account and learns nothing
about anyone else. Whether the username, phone number or national id is already
registered, the answer is the same and so is the work behind it (one password hash):
the person signs in to find out whether the account was created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from domain.customers import Customer, DuplicateCustomer, Registration, register_customer
from domain.errors import DomainError, UsernameTaken
from domain.passwords import hash_password
from domain.users import validate_new_user

SIGN_UP_RECEIVED = (
    "If these details are new, your account is created: sign in with your username and "
    "password to continue. If sign-in fails, the username, phone number or national id may "
    "already be registered: choose another username, or contact the bank."
)


@dataclass(frozen=True)
class SignUpReceived:
    """What the person signing up is told (`message`), and what happened, for the logs only."""

    message: str
    customer: Customer | None
    clash: DomainError | None


def sign_up(session: Session, form: Registration, today: date) -> SignUpReceived:
    """Register the person with their account, or, if a detail is taken, store nothing and
    answer alike. Every input check runs before anything is looked up, so a refusal of the
    input never depends on who is registered either."""
    validate_new_user(form.username or "", form.password or "")
    try:
        with session.begin_nested():
            customer = register_customer(session, form, today, None)
    except (DuplicateCustomer, UsernameTaken) as clash:
        hash_password(form.password or "")  # the hash a new account costs, so timing tells nothing
        return SignUpReceived(SIGN_UP_RECEIVED, None, clash)
    return SignUpReceived(SIGN_UP_RECEIVED, customer, None)
