"""Fewer passes of Python's cyclic garbage collector while an import streams rows.

Why: the importer holds each row's objects (cells, values, issues, the operation) for one chunk
of :data:`~bulkio.pipeline.CHUNK` rows, a few thousand containers at a time. With CPython's default
threshold (700 new containers), every chunk pushes its rows into the older generations before
they die, and the collector's full passes, which walk every object of the process, took about a
third of a dry run's CPU (``bench/README.md``). None of these objects form cycles; they are
freed by reference counting as soon as their chunk is planned. While rows stream, the youngest
generation is collected every :data:`ROW_THRESHOLD` new containers instead; the previous
thresholds come back afterwards (also after an error), so nothing else in the process changes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Containers allocated (net) between two collections of the youngest generation while rows stream.
ROW_THRESHOLD = 50_000


@contextmanager
def fewer_collections(threshold: int = ROW_THRESHOLD) -> Iterator[None]:
    """Collect the youngest generation every ``threshold`` containers inside the block.

    >>> with fewer_collections():   # doctest: +SKIP
    ...     for op in planned_rows: ...
    """
    before = gc.get_threshold()
    if before[0] == 0 or before[0] >= threshold:  # collection off, or already rarer: leave it
        yield
        return
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


__all__ = ["ROW_THRESHOLD", "fewer_collections"]
