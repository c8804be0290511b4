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
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from conftest import SHARED

from enhancement.baseline.batching import fixed_planner, memory_planner, window_bytes
from enhancement.baseline.inference import (
    enhance_partners,
    enhance_session,
    overlap_add,
    plan_windows,
    stft,
    window_renderer,
    window_samples,
)
from enhancement.baseline.model import GridBlock, MCxTFGridNet, build_model
from enhancement.baseline.system import BaselineEnhancement

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data"
SHARED_FIXTURE = SHARED / "baseline_fixture"
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
@pytest.mark.xdist_group("baseline")  # the long baseline tests start early, on one worker
@pytest.mark.parametrize("device", ["aria", "ha"])
def test_full_size(device: str) -> None:
    if not SHARED_FIXTURE.is_dir():
        pytest.skip(f"full-size reference fixture not found at {SHARED_FIXTURE}")
    """The model's output for the first window (the fixture's forward pass: the first
    64000 samples) and the whole session against upstream. The first window's output is
    taken from the session's own model call, not computed a second time: the model's
    forward() is separate() after encode_speaker() to the bit
    (test_speaker_embedding_once_equals_forward)."""
    model = _load_model(SHARED_FIXTURE / f"{device}_config.yaml", SHARED_FIXTURE / f"{device}_random_init.pt")
    audio = _read(SHARED_FIXTURE / f"{device}_input.wav")
    enrol = _read(SHARED_FIXTURE / f"{device}_enrolment.wav")
    first_window: list[torch.Tensor] = []
    separate = model.separate

    def recording(spec: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        out = separate(spec, embedding)
        if not first_window:
            assert spec.shape[-2] == 1001  # [B, C, F, T, 2]: window 1 is 64000 samples, as the fixture's
            first_window.append(torch.view_as_real(out[:1]).clone())
        return out

    model.separate = recording
    session = enhance_session(model, audio, enrol, 4, 3)
    _assert_close(first_window[0].numpy(), np.load(SHARED_FIXTURE / f"{device}_expected_forward.npy"))
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
    system = BaselineEnhancement(str(tmp_path / "{device}_config.yaml"), str(tmp_path / "{device}_baseline.pt"))
    audio, enrol = torch.zeros(7, 16000), torch.zeros(1, 16000)
    with pytest.raises(FileNotFoundError) as info:
        system.process_session(audio, 16000, enrol, 16000, {"device": "aria"})
    message = str(info.value)
    for needle in (
        str(tmp_path / "aria_baseline.pt"),
        "ckpt_path",
        "enhance_args/baseline.yaml",
        "CHiME9-ECHI/CHiME9-ECHI",
        "checkpoints/{aria,ha}_baseline.pt",
        "checkpoints/{aria,ha}_config.yaml",
    ):
        assert needle in message


def test_system_rejects_other_rates(tiny) -> None:
    system = BaselineEnhancement(str(DATA / "tiny_config.yaml"), str(DATA / "tiny_random.pt"))
    with pytest.raises(ValueError, match="16000"):
        system.process_session(torch.zeros(7, 48000), 48000, torch.zeros(1, 16000), 16000)


def test_system_tiny_session(tmp_path: Path, tiny, caplog: pytest.LogCaptureFixture) -> None:
    _, audio, enrol = tiny
    shutil.copy(DATA / "tiny_config.yaml", tmp_path / "aria_config.yaml")
    shutil.copy(DATA / "tiny_random.pt", tmp_path / "aria_baseline.pt")
    system = BaselineEnhancement(
        str(tmp_path / "{device}_config.yaml"), str(tmp_path / "{device}_baseline.pt"), window_size=3, stride=2
    )
    context = {"dataset": "dev", "session": "dev_02", "device": "aria", "pid": "P301"}
    with caplog.at_level(logging.INFO, logger="enhancement.baseline.system"):
        out = system.process_session(audio, 16000, enrol, 16000, context)
    assert out.ndim == 1 and out.dtype == torch.float32
    _assert_close(out.numpy(), np.load(DATA / "tiny_expected_session.npy"))
    assert "dev_02.aria.P301: window 3/4" in caplog.messages
    model = next(iter(system._cache.values())).model
    system.process_session(audio[:, :8000], 16000, enrol, 16000, context)
    assert next(iter(system._cache.values())).model is model and len(system._cache) == 1


# -- (f) block attention across block boundaries ----------------------------------------------


def _random_block(seed: int = 0) -> GridBlock:
    """A small GridBlock with every parameter random (norm gains included)."""
    torch.manual_seed(seed)
    block = GridBlock(emb_dim=8, emb_ks=4, emb_hs=1, hidden_channels=6, n_head=2, qk_output_channel=4).eval()
    with torch.no_grad():
        for param in block.parameters():
            param.copy_(0.5 * torch.randn_like(param))
        for norm in (block.attn_norm_Q, block.attn_norm_K, block.attn_norm_V):
            norm.act.weight.copy_(torch.tensor([0.1, 0.3]))
    return block


def _full_attention(block: GridBlock, x: torch.Tensor) -> torch.Tensor:
    """Upstream's way, ``[B, C, T, F]``: full T x T scores, a lower-triangular mask, softmax."""
    batch, channels, n_t, n_f = x.shape
    heads = block.n_head
    q = block.attn_norm_Q(block.attn_conv_Q(x))  # [B, H, E, T, F]
    k = block.attn_norm_K(block.attn_conv_K(x))
    v = block.attn_norm_V(block.attn_conv_V(x))
    q = q.transpose(2, 3).reshape(batch * heads, n_t, -1)  # (E, F) flattened per frame
    k = k.transpose(2, 3).reshape(batch * heads, n_t, -1)
    v_shape = v.transpose(2, 3).shape
    v = v.transpose(2, 3).reshape(batch * heads, n_t, -1)
    scores = q @ k.transpose(1, 2) / q.shape[-1] ** 0.5
    future = ~torch.tril(torch.ones(n_t, n_t, dtype=torch.bool))
    weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
    mixed = (weights @ v).reshape(v_shape).transpose(2, 3).reshape(batch, channels, n_t, n_f)
    return block.attn_concat_proj(mixed) + x


@pytest.mark.parametrize("q_block, k_block", [(8, 3), (5, 5), (4, 7), (1, 2), (64, 64)])
def test_block_attention_equals_full_attention(q_block: int, k_block: int) -> None:
    """Several query blocks x several key blocks (diagonal, partial and skipped blocks)."""
    block = _random_block()
    x = torch.randn(2, 8, 23, 5, generator=torch.Generator().manual_seed(1))
    block.query_block, block.key_block, block.feature_frames = q_block, k_block, 3
    with torch.inference_mode():
        expected = _full_attention(block, x)
        h = x.permute(0, 2, 3, 1).contiguous()
        block._attention_(h)
    got = h.permute(0, 3, 1, 2)
    assert not torch.allclose(expected, x, atol=1e-2)  # the attention did change something
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_block_attention_is_causal() -> None:
    """Changing a later frame never changes an earlier frame's output, across blocks."""
    block = _random_block(2)
    block.query_block, block.key_block = 4, 3
    x = torch.randn(1, 17, 5, 8, generator=torch.Generator().manual_seed(3))
    y = x.clone()
    y[:, 11] += 1.0
    with torch.inference_mode():
        block._attention_(x)
        block._attention_(y)
    torch.testing.assert_close(x[:, :11], y[:, :11], rtol=0, atol=0)
    assert not torch.allclose(x[:, 11:], y[:, 11:])


# -- (g) batching: windows and partners together equal one at a time ---------------------------


def _partners(enrol: torch.Tensor) -> list[torch.Tensor]:
    """Three enrolments of different lengths that give clearly different outputs (the tiny
    model: 1.8 % and 2.6 % of the peak apart from the first): itself, louder, noise."""
    noise = 0.3 * torch.randn(1, enrol.shape[1] * 2 // 3, generator=torch.Generator().manual_seed(0))
    return [enrol, 4 * enrol[:, : enrol.shape[1] * 5 // 6], noise]


@pytest.mark.slow
def test_tiny_batched_equals_one_by_one(tiny) -> None:
    model, audio, enrol = tiny
    enrolments = _partners(enrol)
    one_by_one = [enhance_session(model, audio, e, 3, 2) for e in enrolments]
    calls: list[tuple[int, int]] = []
    batched = enhance_partners(
        model, audio, enrolments, 3, 2, lambda i, n: calls.append((i, n)), planner=fixed_planner(5)
    )
    assert calls == [(5, 12), (9, 12), (12, 12)]  # 9 full windows in 5 + 4, 3 last ones
    for got, ref in zip(batched, one_by_one):
        _assert_close(got.numpy(), ref.numpy())
    _assert_close(batched[0].numpy(), np.load(DATA / "tiny_expected_session.npy"))
    peak = float(batched[0].abs().max())
    for other in batched[1:]:  # a mix-up of partners' embeddings would not pass
        assert float((other - batched[0]).abs().max()) > 100 * REL_TOL * peak


@pytest.mark.slow
def test_tiny_memory_planner_batches_and_splits_blocks(tiny) -> None:
    """A budget that holds a few windows: several per call, attention in several blocks."""
    model, audio, enrol = tiny
    n_frames = 48000 // 64 + 1
    budget = 9 * window_bytes(model, n_frames, 65)
    planner = memory_planner(model, budget, 65)
    plan = planner(n_frames, 9)
    assert 1 < plan.batch < 9
    assert plan.query_block is not None and plan.query_block < n_frames
    assert plan.key_block is not None and plan.key_block < n_frames  # several key blocks too
    assert memory_planner(model, 100 * budget, 65)(n_frames, 9).batch == 9
    assert memory_planner(model, 1, 65)(n_frames, 9).batch == 1
    enrolments = _partners(enrol)
    batched = enhance_partners(model, audio, enrolments, 3, 2, planner=planner)
    for got, e in zip(batched, enrolments):
        _assert_close(got.numpy(), enhance_session(model, audio, e, 3, 2).numpy())
    before = [(b.query_block, b.key_block, b.intra_positions) for b in model.gridnets]
    assert before == [(4096, 1024, 1 << 15)] * len(model.gridnets)  # restored after the run


@pytest.mark.slow
@pytest.mark.xdist_group("baseline")  # the long baseline tests start early, on one worker
def test_full_size_batched_equals_reference() -> None:
    if not SHARED_FIXTURE.is_dir():
        pytest.skip(f"full-size reference fixture not found at {SHARED_FIXTURE}")
    """Two partners' windows in one batch, the last window shorter than the others.
    The first 7.5 s of the fixture (windows at 0, 3 and 6 s, the last 1.5 s long)
    keep its output up to 6 s, where its third window starts, unchanged: a third
    fewer full-size windows than the whole 10.5 s. The second partner against its
    first window alone, unbatched (up to 3 s, where the next window's fade starts);
    batches of ragged windows against one by one: test_tiny_batched_equals_one_by_one."""
    model = _load_model(SHARED_FIXTURE / "aria_config.yaml", SHARED_FIXTURE / "aria_random_init.pt")
    audio = _read(SHARED_FIXTURE / "aria_input.wav")[:, : int(7.5 * 16000)]
    enrol = _read(SHARED_FIXTURE / "aria_enrolment.wav")
    other = enrol.flip(-1)
    assert plan_windows(audio.shape[1], *window_samples(4, 3)) == [(0, 64000), (48000, 112000), (96000, 120000)]
    first, second = enhance_partners(model, audio, [enrol, other], 4, 3, planner=fixed_planner(8))
    _assert_close(first[:96000].numpy(), np.load(SHARED_FIXTURE / "aria_expected_session.npy")[:96000])
    alone = enhance_session(model, audio[:, :64000], other, 4, 3)  # one window, no fade
    _assert_close(second[:48000].numpy(), alone[:48000].numpy())


@pytest.mark.slow
def test_system_process_partners(tmp_path: Path, tiny, caplog: pytest.LogCaptureFixture) -> None:
    _, audio, enrol = tiny
    shutil.copy(DATA / "tiny_config.yaml", tmp_path / "aria_config.yaml")
    shutil.copy(DATA / "tiny_random.pt", tmp_path / "aria_baseline.pt")
    system = BaselineEnhancement(
        str(tmp_path / "{device}_config.yaml"),
        str(tmp_path / "{device}_baseline.pt"),
        window_size=3,
        stride=2,
        batch_windows=4,
    )
    enrolments = dict(zip(["P1", "P2", "P3"], ((e, 16000) for e in _partners(enrol))))
    context = {"dataset": "dev", "session": "dev_02", "device": "aria"}
    with caplog.at_level(logging.INFO, logger="enhancement.baseline.system"):
        out = system.process_partners(audio, 16000, enrolments, context)
    assert list(out) == ["P1", "P2", "P3"]
    assert "dev_02.aria.P1+P2+P3: window 12/12" in caplog.messages
    for pid, (e, _) in enrolments.items():
        assert out[pid].dtype == torch.float32 and out[pid].shape == (audio.shape[1],)
        single = system.process_session(audio, 16000, e, 16000, {**context, "pid": pid})
        _assert_close(out[pid].numpy(), single.numpy())
    with pytest.raises(ValueError, match="16000"):
        system.process_partners(audio, 16000, {"P1": (enrol, 48000)}, context)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_windows": 0}, "batch_windows must be at least 1"),
        ({"memory_fraction": 1.5}, r"memory_fraction must be in \(0, 1\]"),
        ({"precision": "bf16"}, "precision must be one of float32, tf32; got 'bf16'"),
    ],
)
def test_system_rejects_bad_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BaselineEnhancement("c.yaml", "w.pt", **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error where CUDA is absent")
def test_system_cuda_without_cuda_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="torch_device 'cuda' but torch sees no CUDA device"):
        BaselineEnhancement("c.yaml", "w.pt", torch_device="cuda")


def test_float32_mode_sets_and_restores_backends() -> None:
    from enhancement.baseline.precision import float32_mode

    saved = torch.backends.cudnn.rnn.fp32_precision
    with float32_mode("float32"):
        assert torch.backends.cudnn.rnn.fp32_precision == "ieee"
        assert torch.backends.cudnn.conv.fp32_precision == "ieee"
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
    assert torch.backends.cudnn.rnn.fp32_precision == saved
    with float32_mode("tf32"):
        assert torch.backends.cuda.matmul.fp32_precision == "tf32"
