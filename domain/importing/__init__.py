"""Importing historical data from the bank's files: customers, loans, savings transactions.

Each kind checks its headers, turns each row into a record or a reason for refusing it, and
writes a batch at a time, skipping what an earlier run already imported.
"""
