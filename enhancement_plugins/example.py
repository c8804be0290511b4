import soxr
import torch

from enhancement.registry import Enhancement, register_enhancement


@register_enhancement("example")
class Example(Enhancement):
    """A minimal plugin: channel 0 of the device, resampled to ``output_sample_rate``."""

    def __init__(self, output_sample_rate: int) -> None:
        self.output_sample_rate = output_sample_rate

    def process_session(
        self,
        device_audio: torch.Tensor,
        device_fs: int,
        spkid_audio: torch.Tensor,
        spkid_fs: int,
        kwargs: dict | None = None,
    ) -> torch.Tensor:
        output = soxr.resample(device_audio[0].detach().cpu().numpy(), device_fs, self.output_sample_rate)
        return torch.from_numpy(output)
