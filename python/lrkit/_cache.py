"""The one cache every lrkit scheduler keeps: its sched-core object, in the instance's
``__dict__`` under a private name that state dicts leave out, rebuilt when the arguments it
was built from change."""

from __future__ import annotations

from typing import Any, Callable

#: Prefix of the attributes that are lrkit's, never saved in a state dict.
PRIVATE = "_lrkit_"


def cached(obj, key: tuple, build: Callable[[], Any], refused: tuple[type[Exception], ...] = ()):
    """`obj`'s core for `key`: the cached one, or `build()` (or the exception of `refused`
    it raised, cached too: the caller then runs torch's own code)."""
    entry = obj.__dict__.get("_lrkit_cache")
    if entry is not None and entry[0] == key:
        return entry[1]
    try:
        core = build()
    except refused as e:
        core = e
    obj.__dict__["_lrkit_cache"] = (key, core)
    return core


def public(state: dict[str, Any]) -> dict[str, Any]:
    """`state` without lrkit's private attributes."""
    return {k: v for k, v in state.items() if not k.startswith(PRIVATE)}


def forget(obj) -> None:
    """Drops `obj`'s cached core (its state was replaced)."""
    obj.__dict__.pop("_lrkit_cache", None)


def key_of(args: dict[str, Any], *rest) -> tuple:
    """A comparable key of keyword arguments (lists as tuples) and more values."""
    return (tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in args.items()), *rest)
