"""Pickles of kreach's model, fast to write and to read back: what the analysis cache stores
and what a forked process sends back (:mod:`analyzer.diff.pair`).

The model is made of frozen slotted dataclasses; pickle's default path rebuilds each with
``object.__new__`` and sets its state field by field. :func:`dump` instead records the
arguments of the class's generated ``__init__`` (loading then calls the class), and
:func:`load` pauses the cycle collector, which loading millions of small objects would set off
hundreds of times for nothing to collect.
"""

from __future__ import annotations

import dataclasses
import gc
import operator
import pickle
from collections.abc import Callable
from typing import Any

PROTOCOL = 5


def dump(value: Any, fh: Any) -> None:
    """Write one pickle of ``value`` to ``fh``."""
    _Pickler(fh, protocol=PROTOCOL).dump(value)


def load(fh: Any) -> Any:
    """One pickle from ``fh``, with the cycle collector paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.load(fh)
    finally:
        if enabled:
            gc.enable()


_getters: dict[type, Callable[[Any], tuple] | None] = {}


def _constructor_args(cls: type) -> Callable[[Any], tuple] | None:
    """For a slotted dataclass built by its generated ``__init__`` alone: a function giving the
    arguments that rebuild an instance; None for any other class."""
    if cls in _getters:
        return _getters[cls]
    getter = None
    if dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__ \
            and not hasattr(cls, "__post_init__") \
            and getattr(getattr(cls.__init__, "__code__", None), "co_filename", "") == "<string>":
        fields = dataclasses.fields(cls)
        if all(f.init for f in fields) and fields:
            names = [f.name for f in fields]
            getter = operator.attrgetter(*names) if len(names) > 1 else \
                (lambda obj, n=names[0]: (getattr(obj, n),))
    _getters[cls] = getter
    return getter


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        getter = _constructor_args(type(obj))
        if getter is None:
            return NotImplemented
        return type(obj), getter(obj)
