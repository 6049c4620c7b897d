"""Every module that defines tables, imported so SQLModel.metadata is complete."""

from domain import outbox, sign_in, users

TABLE_MODULES = (users, sign_in, outbox)
