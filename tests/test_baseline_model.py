"""The baseline re-implementation against reference outputs of the upstream code.

Reference data: ``tests/data`` (tiny model, committed) and ``<repo>/../shared/baseline_fixture``
(full-size aria/ha random-init weights, not committed; those tests skip without it). The
references were computed with upstream's own ``MCxTFGridNet`` and windowed inference; see
that folder's README. Tolerance: ``1e-4 * max|reference|``.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from enhancement.baseline.inference import (
    enhance_session,
    overlap_add,
    plan_windows,
    stft,
    window_renderer,
    window_samples,
)
from enhancement.baseline.model import MCxTFGridNet, build_model
from enhancement.baseline.system import BaselineEnhancement

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SHARED_FIXTURE = REPO.parent / "shared" / "baseline_fixture"
REL_TOL = 1e-4


def _load_model(config: Path, weights: Path) -> MCxTFGridNet:
    params = yaml.safe_load(config.read_text())["params"]
    model = build_model(params)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def _read(path: Path) -> torch.Tensor:
    """``[channels, samples]`` float32."""
    audio, fs = sf.read(path, dtype="float32", always_2d=True)
    assert fs == 16000
    return torch.from_numpy(np.ascontiguousarray(audio.T))


def _assert_close(got: np.ndarray, ref: np.ndarray) -> None:
    assert got.shape == ref.shape
    scale = float(np.abs(ref).max())
    err = float(np.abs(got - ref).max())
    assert err <= REL_TOL * scale, f"max abs error {err:.3g} > {REL_TOL} * {scale:.3g}"


def _forward(model: MCxTFGridNet, audio: torch.Tensor, enrol: torch.Tensor) -> np.ndarray:
    spec = stft(audio)[None]
    spk = stft(enrol)  # [1, F, Ts, 2]
    with torch.inference_mode():
        out = model(spec, spk, torch.tensor([spk.shape[2]]))
    return torch.view_as_real(out).numpy()


# -- (a) checkpoint compatibility ------------------------------------------------------------


@pytest.mark.parametrize("device", ["aria", "ha"])
def test_state_dict_matches_official(device: str) -> None:
    expected = json.loads((DATA / "official_state_dict_shapes.json").read_text())[device]
    params = yaml.safe_load((DATA / f"{device}_config.yaml").read_text())["params"]
    got = {k: list(v.shape) for k, v in build_model(params).state_dict().items()}
    assert list(got) == list(expected)  # same keys, same order
    assert got == expected


# -- (b) tiny model against upstream ----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> tuple[MCxTFGridNet, torch.Tensor, torch.Tensor]:
    model = _load_model(DATA / "tiny_config.yaml", DATA / "tiny_random.pt")
    return model, _read(DATA / "tiny_input.wav"), _read(DATA / "tiny_enrolment.wav")


def test_tiny_forward(tiny) -> None:
    model, audio, enrol = tiny
    expected = np.load(DATA / "tiny_expected_forward.npy")
    _assert_close(_forward(model, audio[:, :32000], enrol), expected)


def test_tiny_session(tiny) -> None:
    model, audio, enrol = tiny
    calls: list[tuple[int, int]] = []
    out = enhance_session(model, audio, enrol, 3, 2, progress=lambda i, n: calls.append((i, n)))
    assert out.dtype == torch.float32 and out.shape == (audio.shape[1],)
    _assert_close(out.numpy(), np.load(DATA / "tiny_expected_session.npy"))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_speaker_embedding_once_equals_forward(tiny) -> None:
    """Encoding the enrolment once per session gives forward()'s numbers exactly."""
    model, audio, enrol = tiny
    spec, spk = stft(audio[:, :16000])[None], stft(enrol)
    lens = torch.tensor([spk.shape[2]])
    with torch.inference_mode():
        whole = model(spec, spk, lens)
        split = model.separate(spec, model.encode_speaker(spk, lens))
    assert torch.equal(whole, split)


# -- (c) full-size aria / ha against upstream -------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("device", ["aria", "ha"])
def test_full_size(device: str) -> None:
    if not SHARED_FIXTURE.is_dir():
        pytest.skip(f"full-size reference fixture not found at {SHARED_FIXTURE}")
    model = _load_model(SHARED_FIXTURE / f"{device}_config.yaml",
                        SHARED_FIXTURE / f"{device}_random_init.pt")
    audio = _read(SHARED_FIXTURE / f"{device}_input.wav")
    enrol = _read(SHARED_FIXTURE / f"{device}_enrolment.wav")
    _assert_close(_forward(model, audio[:, :64000], enrol),
                  np.load(SHARED_FIXTURE / f"{device}_expected_forward.npy"))
    session = enhance_session(model, audio, enrol, 4, 3)
    _assert_close(session.numpy(), np.load(SHARED_FIXTURE / f"{device}_expected_session.npy"))


# -- (d) windowing edge cases -----------------------------------------------------------------

# A tiny window for the edge cases: 0.5 s window (8000 samples), 0.375 s stride (6000).
EDGE_WINDOW_S, EDGE_STRIDE_S = 0.5, 0.375
W, S = window_samples(EDGE_WINDOW_S, EDGE_STRIDE_S)
O = W - S
EDGE_LENGTHS = {
    "shorter_than_window": 5000,
    "exact_strides": 3 * S,
    "tail_inside_overlap": 3 * S + O // 2,  # length % stride in (0, overlap]: upstream's bug
    "tail_at_overlap": 3 * S + O,  # still the bug case: the interval is closed at overlap
    "tail_past_overlap": 3 * S + O + 1,
}


def _upstream_overlap_add(n: int, render: Callable[[int, int], torch.Tensor]) -> torch.Tensor:
    """Upstream's loop, tail bug included: a window starts at every multiple of the stride."""
    fade = torch.hann_window(2 * O)
    out = torch.zeros(n)
    for start in range(0, n, S):
        end = min(start + W, n)
        piece = render(start, end).clone()
        if start > 0 and piece.numel() > O:
            piece[:O] *= fade[:O]
        if end < n and piece.numel() > O:
            piece[-O:] *= fade[-O:]
        out[start:end] += piece
    return out


def test_edge_window_sizes() -> None:
    assert (W, S, O) == (8000, 6000, 2000)


@pytest.mark.parametrize("n", list(EDGE_LENGTHS.values()) + [1, 64, 127, 129, 7999, 8001, 14001])
def test_overlap_add_weights_sum_to_one(n: int) -> None:
    """With an identity stand-in for the model the session comes back unchanged."""
    signal = torch.randn(n, generator=torch.Generator().manual_seed(n))
    out = overlap_add(n, W, S, lambda start, end: signal[start:end])
    assert out.shape == (n,)
    torch.testing.assert_close(out, signal, rtol=0, atol=1e-6)
    spans = plan_windows(n, W, S)
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(end - start == W for start, end in spans[:-1])


def test_upstream_double_adds_the_tail() -> None:
    n = EDGE_LENGTHS["tail_inside_overlap"]
    signal = torch.randn(n, generator=torch.Generator().manual_seed(0))
    upstream = _upstream_overlap_add(n, lambda start, end: signal[start:end])
    ours = overlap_add(n, W, S, lambda start, end: signal[start:end])
    tail = slice(n - n % S, n)
    torch.testing.assert_close(upstream[tail], 2 * signal[tail])  # the bug
    torch.testing.assert_close(ours, signal, rtol=0, atol=1e-6)
    assert len(plan_windows(n, W, S)) == len(range(0, n, S)) - 1


@pytest.mark.parametrize("case", list(EDGE_LENGTHS))
def test_tiny_session_edge_lengths(tiny, case: str) -> None:
    model, audio, enrol = tiny
    n = EDGE_LENGTHS[case]
    clip = audio[:, :n]
    out = enhance_session(model, clip, enrol, EDGE_WINDOW_S, EDGE_STRIDE_S)
    assert out.shape == (n,) and out.dtype == torch.float32
    assert torch.isfinite(out).all()

    with torch.inference_mode():
        spk = stft(enrol)
        embedding = model.encode_speaker(spk, torch.tensor([spk.shape[2]]))
        render = window_renderer(model, clip, embedding)
        if n <= W:  # one window: the model over the whole clip, no fades
            torch.testing.assert_close(out, render(0, n), rtol=0, atol=1e-6)
        upstream = _upstream_overlap_add(n, render)
    if n > W and 0 < n % S <= O:  # upstream adds the tail twice; we do not
        tail = slice(n - n % S, n)
        assert not torch.allclose(out[tail], upstream[tail], atol=1e-3)
        torch.testing.assert_close(out[: tail.start], upstream[: tail.start], rtol=0, atol=1e-5)
    else:
        torch.testing.assert_close(out, upstream, rtol=0, atol=1e-5)


# -- (e) the system ---------------------------------------------------------------------------


def test_system_missing_checkpoint(tmp_path: Path) -> None:
    shutil.copy(DATA / "tiny_config.yaml", tmp_path / "aria_config.yaml")
    system = BaselineEnhancement(str(tmp_path / "{device}_config.yaml"),
                                 str(tmp_path / "{device}_baseline.pt"))
    audio, enrol = torch.zeros(7, 16000), torch.zeros(1, 16000)
    with pytest.raises(FileNotFoundError) as info:
        system.process_session(audio, 16000, enrol, 16000, {"device": "aria"})
    message = str(info.value)
    for needle in (str(tmp_path / "aria_baseline.pt"), "ckpt_path", "enhance_args/baseline.yaml",
                   "CHiME9-ECHI/CHiME9-ECHI", "checkpoints/{aria,ha}_baseline.pt",
                   "checkpoints/{aria,ha}_config.yaml"):
        assert needle in message


def test_system_rejects_other_rates(tiny) -> None:
    system = BaselineEnhancement(str(DATA / "tiny_config.yaml"), str(DATA / "tiny_random.pt"))
    with pytest.raises(ValueError, match="16000"):
        system.process_session(torch.zeros(7, 48000), 48000, torch.zeros(1, 16000), 16000)


def test_system_tiny_session(tmp_path: Path, tiny, caplog: pytest.LogCaptureFixture) -> None:
    _, audio, enrol = tiny
    shutil.copy(DATA / "tiny_config.yaml", tmp_path / "aria_config.yaml")
    shutil.copy(DATA / "tiny_random.pt", tmp_path / "aria_baseline.pt")
    system = BaselineEnhancement(str(tmp_path / "{device}_config.yaml"),
                                 str(tmp_path / "{device}_baseline.pt"), window_size=3, stride=2)
    context = {"dataset": "dev", "session": "dev_02", "device": "aria", "pid": "P301"}
    with caplog.at_level(logging.INFO, logger="enhancement.baseline.system"):
        out = system.process_session(audio, 16000, enrol, 16000, context)
    assert out.ndim == 1 and out.dtype == torch.float32
    _assert_close(out.numpy(), np.load(DATA / "tiny_expected_session.npy"))
    assert "dev_02.aria.P301: window 3/4" in caplog.messages
    model = next(iter(system._cache.values())).model
    system.process_session(audio[:, :8000], 16000, enrol, 16000, context)
    assert next(iter(system._cache.values())).model is model and len(system._cache) == 1
