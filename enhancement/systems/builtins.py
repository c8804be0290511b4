"""The systems that ship with the package."""

from __future__ import annotations

import numpy as np

from enhancement.baseline.system import BaselineEnhancement
from enhancement.data.challenge import OUTPUT_RATE
from enhancement.systems.registry import Enhancement, register_enhancement


@register_enhancement("passthrough")
class Passthrough(Enhancement):
    """Channel 0 of the device, at the output rate: the floor any system must beat."""

    audio_as_numpy = True  # its job needs no torch

    def __init__(self) -> None:
        pass

    def process_session(
        self,
        device_audio: np.ndarray,
        device_fs: int,
        spkid_audio: np.ndarray,
        spkid_fs: int,
        kwargs: dict | None = None,
    ) -> np.ndarray:
        channel0 = np.asarray(device_audio[0])
        if device_fs == OUTPUT_RATE:
            return channel0
        import soxr

        return soxr.resample(channel0, device_fs, OUTPUT_RATE)


# The challenge baseline (TF-GridNet); its args are in enhance_args/baseline.yaml.
register_enhancement("baseline")(BaselineEnhancement)
