"""Pause Python's cyclic garbage collector while building large data.

The collector runs after every few hundred container allocations, and each
full pass walks every live container. Loading a data set or converting and
encoding tens of thousands of results allocates hundreds of thousands of
small dicts and lists that live on, so the collector rescans them many
times over (half the load time of a Fashionpedia-sized file, most of the
time to convert its results). None of these structures forms a reference
cycle, so pausing the collector while they are built frees nothing less;
reference counting still frees everything that is dropped.
"""

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector; restore its state after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
