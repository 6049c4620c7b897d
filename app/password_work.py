"""Requests that hash a password run on threads of their own, so they never take the
threads (nor, on Linux, the processors) that signed-in requests are served by.

Which requests: read from the document before it runs. `login` always verifies a password;
`registerCustomer` hashes one when the caller is signed out (self sign-up). Every field of
the document counts, whatever its depth or fragment, so hiding a login in a fragment changes
nothing. A document that does not parse within the token limit runs nothing: it is refused
by the same parser on the ordinary pool.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio
from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    parse,
)

T = TypeVar("T")
HASHING = "login"
HASHING_WHEN_SIGNED_OUT = "registerCustomer"


def _field_names(selection_set: SelectionSetNode | None) -> Iterator[str]:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection.name.value
            yield from _field_names(selection.selection_set)
        elif isinstance(selection, InlineFragmentNode):
            yield from _field_names(selection.selection_set)


def read_document(query: str | None, max_tokens: int) -> DocumentNode | None:
    """The parsed document, or None if it does not parse within `max_tokens` (cheap: the
    parser stops at the limit, and execution refuses such a document anyway)."""
    try:
        return parse(query or "", max_tokens=max_tokens)
    except GraphQLError:
        return None


def document_fields(document: DocumentNode | None) -> Counter[str]:
    """How often each field name occurs in the document, fragment definitions included."""
    if document is None:
        return Counter()
    return Counter(
        name
        for definition in document.definitions
        if isinstance(definition, ExecutableDefinitionNode)
        for name in _field_names(definition.selection_set)
    )


def hashes_passwords(fields: Counter[str], signed_in: bool) -> bool:
    return HASHING in fields or (not signed_in and HASHING_WHEN_SIGNED_OUT in fields)


REFUSED_ANSWER_DELAY_SECONDS = 1.0  # how long an answer refusing an attempt is held back

# A sign-in thread, and the threads argon2 starts from it, get this much less CPU priority
# (Linux nice): under a flood of hashing, signed-in requests still win the processors.
SIGN_IN_NICENESS = 10
MAX_NICENESS = 19


def _lower_priority() -> None:
    if sys.platform != "linux":  # elsewhere setpriority would lower the whole process
        return
    thread = threading.get_native_id()
    current = os.getpriority(os.PRIO_PROCESS, thread)
    os.setpriority(os.PRIO_PROCESS, thread, min(MAX_NICENESS, current + SIGN_IN_NICENESS))


class PasswordWorkThreads:
    """`threads` threads at a lower priority; requests beyond them wait their turn (and stop
    waiting when their client goes away)."""

    def __init__(self, threads: int) -> None:
        self.limiter = anyio.CapacityLimiter(threads)
        self._pool = ThreadPoolExecutor(threads, "sign-in", initializer=_lower_priority)

    async def run(self, call: Callable[[], T]) -> T:
        async with self.limiter:
            context = contextvars.copy_context()  # the request id, for the logs
            return await asyncio.wrap_future(self._pool.submit(context.run, call))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
