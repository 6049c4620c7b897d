"""Batch loaders: a list resolver primes the keys of its page, the first field that needs
related data loads it for the whole page at once (no N+1 queries)."""

from __future__ import annotations

from domain.credit_assessment import CreditAssessment, assess_customers
from domain.customers import Customer
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
