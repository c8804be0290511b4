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
# Extra input frames each side of a chunk of the whole-signal run (even, for the pool): a chunk's
# own zero padding reaches 4 frames into its fourth convolution's output, whose frames from 2 before
# the first kept pooled output to 1 after the last are read (the fifth convolution): 6 suffice.
CHUNK_HALO = 6
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
    with open(path, "rb") as f:
        model = f.read()
    head, tail = cut_graph(model, path)
    return SplitModel(session(head, threads), session(tail, threads))


# The cut is made on the model file's protobuf encoding with the few field numbers of
# onnx.proto it needs, not with the onnx package: importing onnx (ml_dtypes, protobuf
# descriptors) cost a scoring job 1.4 CPU-s, 10x the cut itself. The cut is what
# onnx.utils.Extractor makes (tests/test_evaluation_metrics.py runs both):
# the nodes between the two tensors, in the file's (topological) order, and the
# initializers they read; no value_info, so the head's frame count stays free.
_MODEL_GRAPH = 7  # ModelProto.graph
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_VALUE_INFO = 1, 5, 11, 12, 13
_NODE_INPUT, _NODE_OUTPUT = 1, 2
_TENSOR_NAME = 8
_FLOAT = 1  # TensorProto.FLOAT


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _fields(buf: bytes) -> list[tuple[int, bytes, bytes]]:
    """(field number, payload, the field's whole encoding) of each field of a message;
    the payload of a varint or fixed-size field is its raw bytes."""
    out, pos = [], 0
    while pos < len(buf):
        start = pos
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, end = _varint(buf, pos)
            payload_start = pos
        elif wire == 2:
            size, payload_start = _varint(buf, pos)
            end = payload_start + size
        elif wire in (1, 5):
            payload_start, end = pos, pos + (8 if wire == 1 else 4)
        else:
            raise ValueError(f"protobuf wire type {wire} (groups) is not used by ONNX files")
        out.append((number, buf[payload_start:end], buf[start:end]))
        pos = end
    return out


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited field."""
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _strings(message: bytes, number: int) -> list[str]:
    return [p.decode() for n, p, _ in _fields(message) if n == number]


def _tensor_value_info(name: str, dims: list[str | int]) -> bytes:
    """ValueInfoProto of a float tensor (dims: int sizes or symbolic names)."""
    shape = b"".join(
        _field(1, _encode_varint(8) + _encode_varint(d) if isinstance(d, int) else _field(2, d.encode())) for d in dims
    )
    tensor_type = _encode_varint(8) + _encode_varint(_FLOAT) + _field(2, shape)
    return _field(1, name.encode()) + _field(2, _field(1, tensor_type))


def _subgraph(graph: bytes, src: tuple[str, list], dst: tuple[str, list]) -> bytes:
    """The graph computing tensor ``dst`` from tensor ``src`` (name, dims each)."""
    fields = _fields(graph)
    nodes = [(raw, _strings(p, _NODE_INPUT), _strings(p, _NODE_OUTPUT)) for n, p, raw in fields if n == _GRAPH_NODE]
    made_by = {out: i for i, (_, _, outs) in enumerate(nodes) for out in outs}
    keep, stack = set(), [dst[0]]
    while stack:  # back from the output to the input, as Extractor searches
        name = stack.pop()
        if name != src[0] and name in made_by and made_by[name] not in keep:
            keep.add(made_by[name])
            stack.extend(nodes[made_by[name]][1])
    kept = [nodes[i] for i in sorted(keep)]
    read = {name for _, ins, _ in kept for name in ins}
    out = []
    for number, payload, raw in fields:
        if number == _GRAPH_INITIALIZER:
            names = _strings(payload, _TENSOR_NAME)
            if names and names[0] in read:
                out.append(raw)
        elif number not in (_GRAPH_NODE, _GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_VALUE_INFO):
            out.append(raw)  # name, doc string: as they are
    out += [raw for raw, _, _ in kept]
    out.append(_field(_GRAPH_INPUT, _tensor_value_info(*src)))
    out.append(_field(_GRAPH_OUTPUT, _tensor_value_info(*dst)))
    return b"".join(out)


def cut_graph(model: bytes, path: str = "the P.835 model") -> tuple[bytes, bytes]:
    """The head (``FRAMES`` -> ``FEATURES``) and tail (``FEATURES`` -> ``SCORES``)
    of the P.835 model file's bytes, as ONNX model bytes."""
    fields = _fields(model)
    graphs = [p for n, p, _ in fields if n == _MODEL_GRAPH]
    graph = graphs[0] if len(graphs) == 1 else b""
    names = {o for n, p, _ in _fields(graph) if n == _GRAPH_NODE for o in _strings(p, _NODE_OUTPUT)}
    inputs = [_strings(p, 1)[0] for n, p, _ in _fields(graph) if n == _GRAPH_INPUT]
    if inputs != ["input_1"] or not {FRAMES, FEATURES, SCORES} <= names:
        raise RuntimeError(
            f"{path}: not the DNSMOS P.835 graph this scorer splits (tensors {FRAMES!r}, "
            f"{FEATURES!r}, {SCORES!r} expected); pin speechmos to the version in pyproject.toml"
        )
    frames = (FRAMES, ["N", "frames", FRAME_LEN])
    features = (FEATURES, ["N", 32, "pooled_frames", 80])
    scores = (SCORES, ["N", 3])

    def with_graph(sub: bytes) -> bytes:
        return b"".join(_field(_MODEL_GRAPH, sub) if n == _MODEL_GRAPH else raw for n, _, raw in fields)

    return with_graph(_subgraph(graph, frames, features)), with_graph(_subgraph(graph, features, scores))
