"""Credit-card bills as the API shows them (RULES.md §4)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.billing.bills import CardBill
from domain.money import Money as DomainMoney
from schema.scalars import Money


@strawberry.type(
    description="A credit-card bill: every 30 days from disbursement, due 15 days later. The "
    "minimum due is 3 % of the principal balance plus the cycle's interest (rounded once), "
    "plus past due; the term's final bill asks for everything owed."
)
class Bill:
    id: strawberry.ID = strawberry.field(description="The bill's number within its loan system.")
    number: int = strawberry.field(description="The billing cycle, 1 to the loan's tenure.")
    billing_date: date = strawberry.field(description="When the cycle ended and it was issued.")
    due_date: date = strawberry.field(description="The minimum is due by this day.")
    principal: Money = strawberry.field(description="The principal part of the minimum due.")
    interest: Money = strawberry.field(description="Interest accrued in the cycle.")
    past_due: Money = strawberry.field(description="Earlier minimums left unpaid.")
    minimum_due: Money = strawberry.field(description="Principal part + interest + past due.")
    balance: Money = strawberry.field(description="The principal balance when it was issued.")
    paid: Money = strawberry.field(description="Paid against it so far.")
    final: bool = strawberry.field(description="The term's last bill: it asks for everything.")

    @classmethod
    def from_model(cls, row: CardBill, currency: str) -> Bill:
        def money(minor: int) -> Money:
            return Money.from_domain(DomainMoney.from_minor(minor, currency))

        return cls(
            id=strawberry.ID(str(row.id)),
            number=row.number,
            billing_date=row.billing_date,
            due_date=row.due_date,
            principal=money(row.principal_minor),
            interest=money(row.interest_minor),
            past_due=money(row.past_due_minor),
            minimum_due=money(row.minimum_due_minor),
            balance=money(row.balance_minor),
            paid=money(row.paid_minor),
            final=row.final,
        )
