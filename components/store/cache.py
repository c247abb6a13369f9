"""A process-wide cache of parsed artifacts, keyed by object and ETag.

Every browser session of a server process shares one cache, so an artifact is
read from the store once however many analysts look at it. A per-key lock makes
concurrent first reads of the same object wait for one another instead of all
going to the store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class ArtifactCache:
    """Least-recently-used mapping with single-flight loading."""

    def __init__(self, max_entries: int = 256):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.misses = 0
        self.hits = 0

    def get_or_load(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """Return the cached value for ``key``, calling ``load`` only on a miss."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    self.hits += 1
                    return self._entries[key]
            try:
                value = load()
            finally:
                with self._lock:
                    self._key_locks.pop(key, None)
            with self._lock:
                self.misses += 1
                self._entries[key] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._key_locks.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)
