"""The baseline as an enhancement system (plugin protocol), loading its model lazily.

The model config and checkpoint depend on the device (Aria glasses: 7 channels, hearing
aids: 4), which is only known per call, so ``config_path`` / ``ckpt_path`` may contain
``{device}``; they are resolved in :meth:`BaselineEnhancement.process_session` from
``kwargs["device"]`` and each resolved pair is loaded once and cached.

Registration is left to the package (this module imports no registry).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch loads when the system is built, not when it is registered
    import torch

    from enhancement.baseline.batching import Planner
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
        batch_windows: windows per model call. Default (None): on CUDA as many as fit in
            ``memory_fraction`` of the free GPU memory (windows of all partners together
            when called through :meth:`process_partners`); on CPU one at a time.
        memory_fraction: share of the free GPU memory (``torch.cuda.mem_get_info``, at the
            start of each call) the batches are planned for. Ignored on CPU.
        precision: ``"float32"`` (IEEE float32, the default: the CPU's arithmetic) or
            ``"tf32"`` (TF32 tensor cores for matmuls, convolutions and LSTMs on CUDA:
            faster, less exact; no effect on CPU).
    """

    def __init__(
        self,
        config_path: str,
        ckpt_path: str,
        window_size: float = 60,
        stride: float = 56,
        torch_device: str = "cpu",
        audio_device: str | None = None,
        batch_windows: int | None = None,
        memory_fraction: float = 0.8,
        precision: str = "float32",
    ) -> None:
        self.config_path = str(config_path)
        self.ckpt_path = str(ckpt_path)
        self.window_size = float(window_size)
        self.stride = float(stride)
        import torch

        from enhancement.baseline.precision import PRECISIONS

        self.torch_device = torch.device(torch_device)
        if self.torch_device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"torch_device {torch_device!r} but torch sees no CUDA device "
                f"(torch {torch.__version__}); set torch_device: cpu in the baseline's args "
                "yaml, or run where a GPU and a CUDA build of torch are available"
            )
        if batch_windows is not None and int(batch_windows) < 1:
            raise ValueError(f"batch_windows must be at least 1 (or unset), got {batch_windows}")
        if not 0 < float(memory_fraction) <= 1:
            raise ValueError(f"memory_fraction must be in (0, 1], got {memory_fraction}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        self.audio_device = audio_device
        self.batch_windows = None if batch_windows is None else int(batch_windows)
        self.memory_fraction = float(memory_fraction)
        self.precision = precision
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

        import yaml

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
        log.info("loaded baseline model %s with weights %s on %s", config_path, ckpt_path, self.torch_device)
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
        return self._enhance(device_audio, device_fs, [(spkid_audio, spkid_fs)], context, context.get("pid"))[0]

    def process_partners(
        self,
        device_audio: torch.Tensor,
        device_fs: int,
        enrolments: Mapping[str, tuple[torch.Tensor, int]],
        kwargs: dict | None = None,
    ) -> dict[str, torch.Tensor]:
        """Enhance every partner of a session-device at once: ``{pid: [N] float32}``.

        ``enrolments`` maps each pid to ``(enrolment [1, M], its rate)``; ``kwargs`` is the
        job's context without a pid. All partners' windows share the batches, so on a GPU
        the three partners cost about one partner's sequential steps.
        """
        context = kwargs or {}
        pids = list(enrolments)
        outputs = self._enhance(
            device_audio, device_fs, [enrolments[p] for p in pids], context, "+".join(map(str, pids))
        )
        return dict(zip(pids, outputs))

    def _planner(self, loaded: _Loaded) -> Planner:
        from enhancement.baseline.batching import (
            fixed_planner,
            free_device_memory,
            memory_planner,
        )

        if self.batch_windows is not None:
            return fixed_planner(self.batch_windows)
        free = free_device_memory(self.torch_device)
        if free is None:
            return fixed_planner(1)
        budget = int(free * self.memory_fraction)
        log.info(
            "planning batches for %.1f GB (%.0f%% of %.1f GB free on %s)",
            budget / 1e9,
            100 * self.memory_fraction,
            free / 1e9,
            self.torch_device,
        )
        return memory_planner(loaded.model, budget, loaded.stft.n_fft // 2 + 1)

    def _enhance(
        self,
        device_audio: torch.Tensor,
        device_fs: int,
        enrolments: list[tuple[torch.Tensor, int]],
        context: Mapping[str, Any],
        who: str | None,
    ) -> list[torch.Tensor]:
        rates = {fs for _, fs in enrolments}
        if device_fs != SAMPLE_RATE or rates != {SAMPLE_RATE}:
            raise ValueError(
                f"the baseline runs at {SAMPLE_RATE} Hz but got device audio at {device_fs} Hz "
                f"and enrolment at {', '.join(map(str, sorted(rates)))} Hz; set sample_rate: "
                f"{SAMPLE_RATE} in the baseline's args yaml so the workflow resamples its inputs"
            )
        loaded = self._load(context.get("device") or self.audio_device)
        label = (
            ".".join(str(v) for v in (context.get("session"), context.get("device"), who) if v is not None) or "session"
        )

        def progress(index: int, total: int) -> None:
            log.info("%s: window %d/%d", label, index, total)

        import torch

        from enhancement.baseline.inference import enhance_partners
        from enhancement.baseline.precision import float32_mode

        with float32_mode(self.precision):
            enhanced = enhance_partners(
                loaded.model,
                torch.as_tensor(device_audio),
                [torch.as_tensor(audio) for audio, _ in enrolments],
                self.window_size,
                self.stride,
                progress,
                stft_params=loaded.stft,
                planner=self._planner(loaded),
            )
        return [e.to(device="cpu", dtype=torch.float32) for e in enhanced]
