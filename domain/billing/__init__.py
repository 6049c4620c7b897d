"""The daily close of business: accrual, billing and delinquency, one business day at a time."""
