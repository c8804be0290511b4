"""The plugin registry: enhancement systems register a class under a name.

This is the contract plugin authors code to (docs/writing-a-system.md): a class
decorated with ``@register_enhancement("name")`` whose ``process_session``
turns one whole session of device audio into one partner's speech.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:  # torch is only needed by the systems, not by the registry
    import torch

__all__ = [
    "Enhancement",
    "RegistryError",
    "enhancement_options",
    "enhancement_sources",
    "register_enhancement",
    "describe_options",
]


class RegistryError(ValueError):
    """A registration clash or a lookup of a name nobody registered."""


@runtime_checkable
class Enhancement(Protocol):
    """What every enhancement system provides: one method, called once per
    partner of a session and device, in the enhance job's own process.

    Args of ``process_session``:
        device_audio: the whole session's device recording, a float32 CPU
            ``torch.Tensor`` of shape ``[channels, samples]`` (7 channels for
            Aria glasses, 4 for hearing aids), values in [-1, 1]; the same
            tensor for each partner (one changed in place is read again, with
            a warning, before the next partner).
        device_fs: its sample rate in Hz: the rate the args yaml's
            ``sample_rate`` asks for (resampled from 48 kHz once per rate).
        spkid_audio: the partner's enrolment recording, a float32 CPU tensor
            of shape ``[1, samples]``.
        spkid_fs: its sample rate in Hz (the same choice as ``device_fs``).
        kwargs: the target: ``dataset``, ``session``, ``device`` and ``pid``.

    A class attribute ``audio_as_numpy = True`` (optional) asks for float32
    numpy arrays of the same shapes instead of tensors; the job then never
    imports torch.

    Returns:
        That partner's speech over the whole session at 16 kHz: a float
        tensor or array, 1-D or squeezable to 1-D, within 20 ms of the
        session's length at 16 kHz (padded or trimmed to it), values in
        [-1, 1] (beyond is clipped with a warning; NaN or Inf is an error).
    """

    def process_session(
        self,
        device_audio: torch.Tensor,
        device_fs: int,
        spkid_audio: torch.Tensor,
        spkid_fs: int,
        kwargs: dict | None = None,
    ) -> torch.Tensor: ...


# name -> class, and name -> where it was defined (for error messages).
enhancement_options: dict[str, type] = {}
enhancement_sources: dict[str, str] = {}

T = TypeVar("T", bound=type)


def _source_of(cls: type) -> str:
    module = sys.modules.get(cls.__module__)
    return getattr(module, "__file__", None) or cls.__module__


def register_enhancement(name: str) -> Callable[[T], T]:
    """Class decorator adding ``cls`` to the registry under ``name``.

    A second, different class under the same name is an error: silently
    replacing a system would run the wrong code under a familiar name.
    """
    if not isinstance(name, str) or not name:
        raise RegistryError(f"register_enhancement needs a non-empty name, got {name!r}")

    def decorate(cls: T) -> T:
        if not callable(getattr(cls, "process_session", None)):
            raise RegistryError(
                f"{cls.__qualname__} ({_source_of(cls)}) is registered as {name!r} but has no process_session method"
            )
        previous = enhancement_options.get(name)
        if previous is not None and previous is not cls:
            raise RegistryError(
                f"enhancement name {name!r} is registered twice: by "
                f"{previous.__module__}.{previous.__qualname__} ({enhancement_sources[name]}) "
                f"and by {cls.__module__}.{cls.__qualname__} ({_source_of(cls)}); "
                "rename one of them"
            )
        enhancement_options[name] = cls
        enhancement_sources[name] = _source_of(cls)
        return cls

    return decorate


def describe_options() -> str:
    """One line per registered system, for 'unknown name' messages."""
    return "\n".join(f"  {name:<16} {enhancement_sources[name]}" for name in sorted(enhancement_options)) or "  (none)"


def get_enhancement_class(name: str) -> type[Any]:
    """The class registered as ``name``, or an error listing the choices."""
    try:
        return enhancement_options[name]
    except KeyError:
        raise RegistryError(
            f"unknown enhancement_name {name!r}. Registered systems (name, defined in):\n"
            f"{describe_options()}\n"
            "Check the spelling, or add the plugin's folder to plugin_dirs "
            "(--config plugin_dirs=[<folder>]) or ECHIPLUGINS (':'-separated) so that it is imported."
        ) from None
