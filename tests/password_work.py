"""A stand-in for the argon2 hasher of domain.passwords that counts, or holds, its work.

The live test server runs in the test's process, so swapping `domain.passwords._hasher`
shows every hash and verification a request makes, whichever use case makes it.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any


class PasswordWorkSpy:
    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls = 0
        self.started = threading.Semaphore(0)  # released once per call as it begins
        self.gate = threading.Event()  # calls wait here until it is set
        self.gate.set()
        self.niceness: list[int] = []  # the CPU priority of each calling thread (Linux)
        self._lock = threading.Lock()

    def _begin(self) -> None:
        with self._lock:
            self.calls += 1
            if sys.platform == "linux":
                self.niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        self.started.release()
        if not self.gate.wait(timeout=60):
            raise TimeoutError("the test never opened the gate")

    def hash(self, password: str) -> str:
        self._begin()
        return str(self.real.hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        self._begin()
        return bool(self.real.verify(password_hash, password))

    def check_needs_rehash(self, password_hash: str) -> bool:
        return bool(self.real.check_needs_rehash(password_hash))
