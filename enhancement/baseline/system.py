"""The baseline as an enhancement system (plugin protocol), loading its model lazily.

The model config and checkpoint depend on the device (Aria glasses: 7 channels, hearing
aids: 4), which is only known per call, so ``config_path`` / ``ckpt_path`` may contain
``{device}``; they are resolved in :meth:`BaselineEnhancement.process_session` from
``kwargs["device"]`` and each resolved pair is loaded once and cached.

Registration is left to the package (this module imports no registry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # torch loads when the system is built, not when it is registered
    import torch

    from enhancement.baseline.inference import StftParams
    from enhancement.baseline.model import MCxTFGridNet

SAMPLE_RATE = 16000  # the rate the baseline was trained at (inference.SAMPLE_RATE)

__all__ = ["BaselineEnhancement"]

log = logging.getLogger(__name__)

_UPSTREAM_HINT = (
    "The official checkpoints are published in the upstream repository CHiME9-ECHI/CHiME9-ECHI "
    "(https://github.com/CHiME9-ECHI/CHiME9-ECHI) as checkpoints/{aria,ha}_baseline.pt, with "
    "their model configs checkpoints/{aria,ha}_config.yaml."
)


@dataclass
class _Loaded:
    model: MCxTFGridNet
    stft: StftParams


class BaselineEnhancement:
    """The CHiME-9 ECHI baseline (MCxTFGridNet), windowed over the whole session.

    Args:
        config_path: model config yaml (upstream format: ``input.stft``, ``params``); may
            contain ``{device}``.
        ckpt_path: state_dict saved with ``torch.save``; may contain ``{device}``.
        window_size: window length in seconds (upstream default 60).
        stride: hop between windows in seconds (upstream default 56; 4 s cross-fade).
        torch_device: where the model runs, e.g. ``"cpu"`` or ``"cuda"``.
        audio_device: fallback for ``{device}`` when a call carries no ``kwargs["device"]``.
    """

    def __init__(
        self,
        config_path: str,
        ckpt_path: str,
        window_size: float = 60,
        stride: float = 56,
        torch_device: str = "cpu",
        audio_device: str | None = None,
    ) -> None:
        self.config_path = str(config_path)
        self.ckpt_path = str(ckpt_path)
        self.window_size = float(window_size)
        self.stride = float(stride)
        import torch

        self.torch_device = torch.device(torch_device)
        self.audio_device = audio_device
        self._cache: dict[tuple[str, str], _Loaded] = {}

    # -- loading ---------------------------------------------------------------------------

    def _resolve(self, template: str, device: str | None) -> Path:
        if "{device}" in template:
            if not device:
                raise ValueError(
                    f"{template!r} contains {{device}} but the call gave no kwargs['device'] "
                    "(and no audio_device was configured)"
                )
            template = template.replace("{device}", device)
        return Path(template)

    def _load(self, device: str | None) -> _Loaded:
        config_path = self._resolve(self.config_path, device)
        ckpt_path = self._resolve(self.ckpt_path, device)
        key = (str(config_path), str(ckpt_path))
        if key in self._cache:
            return self._cache[key]

        if not config_path.is_file():
            raise FileNotFoundError(
                f"baseline model config not found: {config_path} (from config_path="
                f"{self.config_path!r}). Set 'config_path' under args in "
                f"enhance_args/baseline.yaml. {_UPSTREAM_HINT}"
            )
        if not ckpt_path.is_file():
            raise FileNotFoundError(
                f"baseline checkpoint not found: {ckpt_path} (from ckpt_path="
                f"{self.ckpt_path!r}). Download it and set 'ckpt_path' under args in "
                f"enhance_args/baseline.yaml. {_UPSTREAM_HINT}"
            )

        with open(config_path, encoding="utf-8") as handle:
            config: dict[str, Any] = yaml.safe_load(handle) or {}
        if "params" not in config:
            raise ValueError(f"{config_path}: no 'params' section (not a baseline model config?)")
        inputs = config.get("input", {}) or {}
        if int(inputs.get("sample_rate", SAMPLE_RATE)) != SAMPLE_RATE:
            raise ValueError(f"{config_path}: input.sample_rate must be {SAMPLE_RATE}")
        if float(inputs.get("rms", 0.0) or 0.0) != 0.0:
            # Upstream would rescale each window to this RMS; the official configs use 0.
            raise ValueError(f"{config_path}: input.rms != 0 is not supported")

        import torch

        from enhancement.baseline.inference import StftParams
        from enhancement.baseline.model import build_model

        model = build_model(config["params"])
        state = torch.load(ckpt_path, map_location=self.torch_device, weights_only=True)
        model.load_state_dict(state, strict=True)
        model.to(self.torch_device).eval()
        loaded = _Loaded(model=model, stft=StftParams.from_config(inputs.get("stft", {}) or {}))
        log.info("loaded baseline model %s with weights %s on %s", config_path, ckpt_path,
                 self.torch_device)
        self._cache[key] = loaded
        return loaded

    # -- the plugin method -----------------------------------------------------------------

    def process_session(
        self,
        device_audio: torch.Tensor,
        device_fs: int,
        spkid_audio: torch.Tensor,
        spkid_fs: int,
        kwargs: dict | None = None,
    ) -> torch.Tensor:
        """Enhance one partner over a whole session: ``[C, N]`` at 16 kHz -> ``[N]`` float32."""
        context = kwargs or {}
        if device_fs != SAMPLE_RATE or spkid_fs != SAMPLE_RATE:
            raise ValueError(
                f"the baseline runs at {SAMPLE_RATE} Hz but got device audio at {device_fs} Hz "
                f"and enrolment at {spkid_fs} Hz; set sample_rate: {SAMPLE_RATE} in the "
                "baseline's args yaml so the workflow resamples its inputs"
            )
        loaded = self._load(context.get("device") or self.audio_device)
        label = ".".join(
            str(context[k]) for k in ("session", "device", "pid") if context.get(k) is not None
        ) or "session"

        def progress(index: int, total: int) -> None:
            log.info("%s: window %d/%d", label, index, total)

        import torch

        from enhancement.baseline.inference import enhance_session

        enhanced = enhance_session(
            loaded.model,
            torch.as_tensor(device_audio),
            torch.as_tensor(spkid_audio),
            self.window_size,
            self.stride,
            progress,
            stft_params=loaded.stft,
        )
        return enhanced.to(device="cpu", dtype=torch.float32)
