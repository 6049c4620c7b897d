"""Batch loaders: a list resolver primes the keys of its page, the first field that needs
related data loads it for the whole page at once (no N+1 queries)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.billing.bills import bills_of
from domain.credit_assessment import CreditAssessment, assess_customers
from domain.customers import Customer
from domain.funding import loan_totals
from domain.loans import Loan, loans_of_customers
from domain.origination import by_ids, schedules_of
from domain.payments import allocations_of, payments_of
from domain.products import LoanProduct
from domain.scoring.progress import scorings_of
from resolvers.context import RequestContext


class CreditAssessmentLoader:
    def __init__(self, context: RequestContext) -> None:
        self._context = context
        self._pending: dict[int, Customer] = {}
        self._loaded: dict[int, CreditAssessment] = {}

    def prime(self, customers: list[Customer]) -> None:
        for customer in customers:
            if customer.id is not None and customer.id not in self._loaded:
                self._pending[customer.id] = customer

    def load(self, customer: Customer) -> CreditAssessment:
        assert customer.id is not None
        if customer.id not in self._loaded:
            self._pending[customer.id] = customer
            batch = list(self._pending.values())
            self._pending.clear()
            self._loaded.update(
                assess_customers(
                    self._context.db, batch, self._context.today(), self._context.now()
                )
            )
        return self._loaded[customer.id]


class KeyedLoader:
    """Rows by id for a whole page at once: `prime` the ids, the first `load` fetches all."""

    def __init__(self, context: RequestContext) -> None:
        self._context = context
        self._wanted: set[int] = set()
        self._found: dict[int, Any] = {}

    def fetch(self, ids: list[int]) -> dict[int, Any]:
        raise NotImplementedError

    def prime(self, ids: Iterable[int | None]) -> None:
        self._wanted.update(i for i in ids if i is not None and i not in self._found)

    def known(self, rows: Iterable[Any]) -> None:
        """Rows the request already holds: loading them again would cost a query each."""
        self._found.update({row.id: row for row in rows if row.id is not None})

    def load(self, key: int) -> Any:
        if key not in self._found:
            self._wanted.add(key)
            batch = sorted(self._wanted)
            self._wanted.clear()
            found = self.fetch(batch)
            self._found.update({k: found.get(k) for k in batch})
        return self._found[key]


class ScheduleLoader(KeyedLoader):
    def fetch(self, ids: list[int]) -> dict[int, Any]:
        return schedules_of(self._context.db, ids)


class ProductLoader(KeyedLoader):
    def fetch(self, ids: list[int]) -> dict[int, Any]:
        return by_ids(self._context.db, LoanProduct, ids)


class CustomerLoader(KeyedLoader):
    def fetch(self, ids: list[int]) -> dict[int, Any]:
        found = by_ids(self._context.db, Customer, ids)
        # whatever is asked of these customers next comes for all of them at once
        self._context.loader(CreditAssessmentLoader).prime(list(found.values()))
        self._context.loader(CustomerLoansLoader).prime(found)
        return found


class LoanLoader(KeyedLoader):
    def fetch(self, ids: list[int]) -> dict[int, Any]:
        found = by_ids(self._context.db, Loan, ids)
        self._context.loader(ScheduleLoader).prime(found)
        self._context.loader(PaymentsLoader).prime(found)
        self._context.loader(BillsLoader).prime(found)
        self._context.loader(ProductLoader).prime(loan.product_id for loan in found.values())
        self._context.loader(CustomerLoader).prime(loan.customer_id for loan in found.values())
        return found


class CustomerLoansLoader(KeyedLoader):
    def fetch(self, ids: list[int]) -> dict[int, Any]:
        grouped = loans_of_customers(self._context.db, ids)
        # Fields resolve customer by customer: prime the loans' relations for the whole page
        # now, or each customer's schedules would cost a query of their own.
        loans = [loan for group in grouped.values() for loan in group]
        self._context.loader(ScheduleLoader).prime(loan.id for loan in loans)
        self._context.loader(PaymentsLoader).prime(loan.id for loan in loans)
        self._context.loader(BillsLoader).prime(loan.id for loan in loans)
        self._context.loader(ProductLoader).prime(loan.product_id for loan in loans)
        return grouped


class FundedTotalLoader(KeyedLoader):
    def fetch(self, ids: list[int]) -> dict[int, Any]:
        return loan_totals(self._context.db, ids)


class PaymentsLoader(KeyedLoader):
    """Every payment of each loan, oldest first."""

    def fetch(self, ids: list[int]) -> dict[int, Any]:
        grouped = payments_of(self._context.db, ids)
        self._context.loader(AllocationsLoader).prime(
            payment.id for payments in grouped.values() for payment in payments
        )
        return grouped


class AllocationsLoader(KeyedLoader):
    def fetch(self, ids: list[int]) -> dict[int, Any]:
        return allocations_of(self._context.db, ids)


class ExternalScoringLoader(KeyedLoader):
    """Progress with the scoring engine, by application id (None: not externally scored)."""

    def fetch(self, ids: list[int]) -> dict[int, Any]:
        return scorings_of(self._context.db, ids)


class BillsLoader(KeyedLoader):
    """Every credit-card bill of each loan, oldest first."""

    def fetch(self, ids: list[int]) -> dict[int, Any]:
        return bills_of(self._context.db, ids)
