"""The generated sample files are consistent with the rules they will be scored by."""

from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from domain.schedules import monthly_dues_reached
from integrations.sample_files import LOAN_HEADERS, generate_sample


def test_no_sample_loan_claims_more_emis_paid_than_have_fallen_due_by_day(tmp_path: Path) -> None:
    # given sample files written on 2026-12-04
    today = date(2026, 12, 4)
    files = generate_sample(tmp_path, customers=30, loans=300, transactions=10, today=today)
    # when every loan row is read back
    rows = load_workbook(files.loans, read_only=True).active.iter_rows(min_row=2, values_only=True)
    column = {name: index for index, name in enumerate(LOAN_HEADERS)}
    # then its EMIs paid on time never exceed the EMIs due by that day (RULES.md §1)
    for row in rows:
        start = row[column["Date of Approval"]]
        start = start.date() if isinstance(start, datetime) else start
        due = monthly_dues_reached(start, int(row[column["Tenure"]]), today)
        assert 0 <= row[column["EMIs paid on Time"]] <= due, row
