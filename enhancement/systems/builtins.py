"""The systems that ship with the package."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enhancement.baseline.system import BaselineEnhancement
from enhancement.data.challenge import OUTPUT_RATE
from enhancement.systems.registry import Enhancement, register_enhancement

if TYPE_CHECKING:
    import torch


@register_enhancement("passthrough")
class Passthrough(Enhancement):
    """Channel 0 of the device, at the output rate: the floor any system must beat."""

    def __init__(self) -> None:
        pass

    def process_session(
        self,
        device_audio: torch.Tensor,
        device_fs: int,
        spkid_audio: torch.Tensor,
        spkid_fs: int,
        kwargs: dict | None = None,
    ) -> torch.Tensor:
        channel0 = device_audio[0]
        if device_fs == OUTPUT_RATE:
            return channel0
        import soxr
        import torch

        return torch.from_numpy(soxr.resample(channel0.cpu().numpy(), device_fs, OUTPUT_RATE))


# The challenge baseline (TF-GridNet); its args are in enhance_args/baseline.yaml.
register_enhancement("baseline")(BaselineEnhancement)
