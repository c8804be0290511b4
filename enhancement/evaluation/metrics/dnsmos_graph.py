"""DNSMOS's P.835 ONNX model cut in two, so overlapping 9-s hops can share their costly part.

The model frames its 9.01-s input (320-sample frames, 160 hop), takes a log
power spectrum and runs four 3x3 convolutions at full time resolution before
its first pooling; those four layers are ~97% of its cost. Convolutions are
shift-invariant (and the pooling aligned, hops starting on even frames), so a
hop's feature map equals the map of the whole signal cut at the hop, except
within a few frames of the hop's edges (zero padding there). The *head*
(frames -> pooling -> fifth convolution) therefore runs once over the whole
signal plus on a few edge frames per hop; the *tail* (the remaining small
layers, global max, dense) runs per hop. Both parts are
extracted from the model file that ships in speechmos's wheel at run time, so
the weights are speechmos's own and nothing is re-exported or downloaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FRAMES = "mos_estimator_logpow/concat:0"  # (batch, frames, 320): framed audio
FEATURES = "mos_estimator_logpow/conv2d_4/Relu:0"  # (batch, 32, frames / 2, 80): after the first pooling
SCORES = "Identity:0"  # (batch, 3): raw SIG, BAK, OVRL
POOL = 2  # the head's time pooling (its one 2x2 max pool); hops start on even frames, so it aligns
# A head output frame p sees input frames 2p-6 .. 2p+7 (four 3x3 convolutions, the pool, one
# more 3x3 convolution): the first and last EDGE_POOLED outputs of a hop see its zero padding.
EDGE_POOLED = 3
EDGE_FRAMES = 12  # input frames run per hop edge to recompute those: output 2 needs input 0..11
CHUNK_HALO = 16  # extra input frames each side of a chunk of the whole-signal run (even)
FRAME_HOP = 160
FRAME_LEN = 320
HOP_FRAMES = 900  # frames of one 9.01-s hop


def speechmos_model_dir() -> str:
    """The folder of DNSMOS models inside the installed speechmos wheel."""
    from speechmos import dnsmos

    return os.path.join(os.path.dirname(os.path.abspath(dnsmos.__file__)), "dnsmos_models")


def session(model: str | bytes, threads: int):
    """An onnxruntime CPU session on ``threads`` threads without spin-waiting."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


@dataclass
class SplitModel:
    """The head and tail sessions of the P.835 model."""

    head: object
    tail: object


def split_primary(path: str, threads: int) -> SplitModel:
    """Cut the P.835 model at ``FEATURES``; the head accepts any number of frames.

    Raises RuntimeError naming the file when it is not the graph this cut was
    written for (a different speechmos release), rather than scoring wrongly.
    """
    import onnx
    from onnx.utils import Extractor

    model = onnx.shape_inference.infer_shapes(onnx.load(path))
    names = {o for n in model.graph.node for o in n.output}
    inputs = [i.name for i in model.graph.input]
    if inputs != ["input_1"] or not {FRAMES, FEATURES, SCORES} <= names:
        raise RuntimeError(
            f"{path}: not the DNSMOS P.835 graph this scorer splits (tensors {FRAMES!r}, "
            f"{FEATURES!r}, {SCORES!r} expected); pin speechmos to the version in pyproject.toml")
    extractor = Extractor(model)
    head = extractor.extract_model([FRAMES], [FEATURES])
    tail = extractor.extract_model([FEATURES], [SCORES])
    del head.graph.value_info[:]  # inferred for 900 frames; the head runs on any number
    head.graph.input[0].type.tensor_type.shape.dim[1].dim_param = "frames"
    head.graph.output[0].type.tensor_type.shape.dim[2].dim_param = "frames"
    return SplitModel(session(head.SerializeToString(), threads), session(tail.SerializeToString(), threads))
