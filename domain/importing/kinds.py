"""Which importer reads which kind of file."""

from __future__ import annotations

from domain.importing.batch import Importer
from domain.importing.customers import CustomerSheet
from domain.importing.loans import LoanSheet
from domain.importing.transactions import TransactionFile
from domain.importing_runs import ImportKind

IMPORTERS: dict[ImportKind, Importer] = {
    ImportKind.CUSTOMERS: CustomerSheet(),
    ImportKind.LOANS: LoanSheet(),
    ImportKind.TRANSACTIONS: TransactionFile(),
}
