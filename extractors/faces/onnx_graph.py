"""Load-time clean-up of the packaged ONNX graphs, on the protobuf wire format.

The OpenCV Zoo files run in OpenCV's DNN as they are, but not well (or not at
all) in ONNX Runtime. Each function here takes the bytes of an ONNX model and
returns new bytes; the file on disk (whose sha256 is checked) is never
changed. Only the few protobuf fields these edits need are decoded, so no
``onnx`` package is required.

* :func:`fold_dequantize`: every ``DequantizeLinear`` whose inputs are all
  initializers becomes a float32 initializer (the int8 block-quantised
  weights, dequantised once with numpy). ONNX Runtime rejects the detector's
  per-tensor biases that carry a ``block_size``, and folding lets it fuse the
  weights into its convolution kernels.
* :func:`drop_stale_inputs`: graph inputs that are initializers or that no
  node reads are removed (SFace's graph lists 174 of them; they are also why
  OpenCV 5's importer fails on the file).
* :func:`free_input_dims`: make chosen input dimensions symbolic (YuNet is
  stored for 640x640 only; SFace for batch 1), dropping the stale shapes of
  outputs and intermediate values.
* :func:`rewrite_prelu`: ``PRelu(x, a)`` becomes ``x + (1 - a) * Relu(-x)``,
  the same function; ONNX Runtime's PRelu kernel with per-channel slopes took
  half of SFace's time on one core.

References
----------
.. [1] ONNX IR specification, onnx/onnx.proto (field numbers used below).
.. [2] Protocol Buffers encoding, https://protobuf.dev/programming-guides/encoding/
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

__all__ = ["fold_dequantize", "drop_stale_inputs", "free_input_dims", "rewrite_prelu", "graph_ops"]

# Field numbers from onnx.proto.
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_VALUE_INFO = 1, 5, 11, 12, 13
_NODE_INPUT, _NODE_OUTPUT, _NODE_NAME, _NODE_OP, _NODE_ATTRIBUTE = 1, 2, 3, 4, 5
_ATTR_NAME, _ATTR_INT = 1, 3
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_FLOATS, _TENSOR_INT32S, _TENSOR_NAME, _TENSOR_RAW = 1, 2, 4, 5, 8, 9
_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64}
_FLOAT = 1


def _read_varint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("malformed ONNX file: varint too long")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _fields(buf) -> Iterator[tuple[int, int, object, memoryview]]:
    """``(field number, wire type, value, raw bytes of the whole field)`` of one message."""
    buf = memoryview(buf)
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = None, pos + 8
        elif wire == 5:
            value, pos = None, pos + 4
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        else:
            raise ValueError(f"malformed ONNX file: wire type {wire}")
        if pos > len(buf):
            raise ValueError("malformed ONNX file: truncated field")
        yield field, wire, value, buf[start:pos]


def _message(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + bytes(payload)


def _strings(buf, field: int) -> list[str]:
    return [bytes(v).decode() for f, w, v, _ in _fields(buf) if f == field and w == 2]


def _ints(buf, field: int) -> list[int]:
    out = []
    for f, w, v, _ in _fields(buf):
        if f == field and w == 0:
            out.append(v)
        elif f == field and w == 2:  # packed
            pos, raw = 0, bytes(v)
            while pos < len(raw):
                value, pos = _read_varint(raw, pos)
                out.append(value)
    return out


def _read_tensor(buf) -> np.ndarray:
    dims = _ints(buf, _TENSOR_DIMS)
    dtype = _DTYPES.get((_ints(buf, _TENSOR_TYPE) or [0])[0])
    if dtype is None:
        raise ValueError("ONNX tensor of an unsupported data type")
    raw = [bytes(v) for f, w, v, _ in _fields(buf) if f == _TENSOR_RAW]
    if raw:
        return np.frombuffer(raw[0], dtype).reshape(dims)
    if dtype == np.float32:
        floats = b"".join(bytes(v) for f, w, v, _ in _fields(buf) if f == _TENSOR_FLOATS and w == 2)
        return np.frombuffer(floats, np.float32).reshape(dims)
    ints = [v - (1 << 32) if v >= 1 << 31 else v for v in _ints(buf, _TENSOR_INT32S)]
    return np.asarray(ints, dtype).reshape(dims)


def _tensor(name: str, array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array, np.float32)
    out = b"".join(_varint(_TENSOR_DIMS << 3) + _varint(int(d)) for d in array.shape)
    out += _varint(_TENSOR_TYPE << 3) + _varint(_FLOAT)
    return out + _message(_TENSOR_NAME, name.encode()) + _message(_TENSOR_RAW, array.tobytes())


def _node(op: str, inputs: list[str], outputs: list[str], name: str) -> bytes:
    out = b"".join(_message(_NODE_INPUT, i.encode()) for i in inputs)
    out += b"".join(_message(_NODE_OUTPUT, o.encode()) for o in outputs)
    return out + _message(_NODE_NAME, name.encode()) + _message(_NODE_OP, op.encode())


def _int_attributes(node) -> dict[str, int]:
    out = {}
    for f, w, v, _ in _fields(node):
        if f == _NODE_ATTRIBUTE:
            ints = _ints(v, _ATTR_INT)
            if ints:
                value = ints[0]
                out[_strings(v, _ATTR_NAME)[0]] = value - (1 << 64) if value >= 1 << 63 else value
    return out


def _edit_graph(model: bytes, edit) -> bytes:
    """Apply ``edit(graph fields) -> graph bytes`` to the model's graph, keeping every other field."""
    out, found = bytearray(), False
    for field, wire, value, raw in _fields(model):
        if field == _MODEL_GRAPH and wire == 2:
            out += _message(_MODEL_GRAPH, edit(list(_fields(value))))
            found = True
        else:
            out += raw
    if not found:
        raise ValueError("not an ONNX model: no graph")
    return bytes(out)


def graph_ops(model: bytes) -> dict[str, int]:
    """How many nodes of each operator the graph holds."""
    counts: dict[str, int] = {}
    for field, wire, value, _ in _fields(model):
        if field == _MODEL_GRAPH:
            for f, w, v, _ in _fields(value):
                if f == _GRAPH_NODE:
                    op = _strings(v, _NODE_OP)[0]
                    counts[op] = counts.get(op, 0) + 1
    return counts


def dequantize(quantized: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None, *, axis: int = 1,
               block_size: int = 0) -> np.ndarray:
    """ONNX ``DequantizeLinear``: ``(x - zero_point) * scale``, per tensor, per axis or per block.

    A single-element scale is per-tensor whatever ``block_size`` says (as
    OpenCV reads these files).
    """
    x = quantized.astype(np.float32)
    zp = np.zeros_like(scale, np.float32) if zero_point is None else zero_point.astype(np.float32)
    scale = scale.astype(np.float32)
    if scale.size == 1:
        return (x - zp.reshape(())) * scale.reshape(())
    axis = axis % x.ndim
    if block_size > 0:
        scale = np.repeat(scale, block_size, axis=axis).take(np.arange(x.shape[axis]), axis=axis)
        zp = np.repeat(zp, block_size, axis=axis).take(np.arange(x.shape[axis]), axis=axis)
        return (x - zp) * scale
    shape = [1] * x.ndim
    shape[axis] = -1
    return (x - zp.reshape(shape)) * scale.reshape(shape)


def fold_dequantize(model: bytes) -> bytes:
    """Replace each all-initializer ``DequantizeLinear`` by its float32 result."""
    def edit(fields):
        tensors = {_strings(v, _TENSOR_NAME)[0]: v for f, w, v, _ in fields if f == _GRAPH_INITIALIZER}
        folded, kept = [], bytearray()
        for f, w, v, raw in fields:
            if f == _GRAPH_NODE and _strings(v, _NODE_OP)[0] == "DequantizeLinear":
                inputs = [i for i in _strings(v, _NODE_INPUT)]
                if inputs and all(i in tensors for i in inputs if i):
                    arrays = [_read_tensor(tensors[i]) if i else None for i in inputs] + [None, None]
                    attrs = _int_attributes(v)
                    value = dequantize(arrays[0], arrays[1], arrays[2], axis=attrs.get("axis", 1),
                                       block_size=attrs.get("block_size", 0))
                    folded.append(_tensor(_strings(v, _NODE_OUTPUT)[0], value))
                    continue
            kept += raw
        return bytes(kept) + b"".join(_message(_GRAPH_INITIALIZER, t) for t in folded)

    return drop_unused_initializers(_edit_graph(model, edit))


def drop_unused_initializers(model: bytes) -> bytes:
    """Remove initializers that no node reads (the quantised copies after folding)."""
    def edit(fields):
        used = {i for f, w, v, _ in fields if f == _GRAPH_NODE for i in _strings(v, _NODE_INPUT)}
        used |= {n for f, w, v, _ in fields if f == _GRAPH_OUTPUT for n in _strings(v, 1)}
        return b"".join(bytes(raw) for f, w, v, raw in fields
                        if f != _GRAPH_INITIALIZER or _strings(v, _TENSOR_NAME)[0] in used)

    return _edit_graph(model, edit)


def drop_stale_inputs(model: bytes) -> bytes:
    """Remove graph inputs that are initializers or that no node reads."""
    def edit(fields):
        init = {_strings(v, _TENSOR_NAME)[0] for f, w, v, _ in fields if f == _GRAPH_INITIALIZER}
        used = {i for f, w, v, _ in fields if f == _GRAPH_NODE for i in _strings(v, _NODE_INPUT)}
        keep = bytearray()
        for f, w, v, raw in fields:
            if f == _GRAPH_INPUT:
                name = _strings(v, 1)[0]
                if name in init or name not in used:
                    continue
            keep += raw
        return bytes(keep)

    return _edit_graph(model, edit)


def _value_info(name: str, dims: list | None) -> bytes:
    tensor_type = _varint(1 << 3) + _varint(_FLOAT)
    if dims is not None:
        shape = b"".join(_message(1, _varint(1 << 3) + _varint(d) if isinstance(d, int) else _message(2, d.encode()))
                         for d in dims)
        tensor_type += _message(2, shape)
    return _message(1, name.encode()) + _message(2, _message(1, tensor_type))


def free_input_dims(model: bytes, input_name: str, dims: list) -> bytes:
    """Declare ``input_name`` (float32) with ``dims`` (ints fixed, strings symbolic).

    Output shapes and intermediate value shapes are dropped: ONNX Runtime
    infers them again for the actual input size.
    """
    def edit(fields):
        out, found = bytearray(), False
        for f, w, v, raw in fields:
            if f == _GRAPH_INPUT and _strings(v, 1)[0] == input_name:
                out += _message(_GRAPH_INPUT, _value_info(input_name, list(dims)))
                found = True
            elif f == _GRAPH_OUTPUT:
                out += _message(_GRAPH_OUTPUT, _value_info(_strings(v, 1)[0], None))
            elif f != _GRAPH_VALUE_INFO:
                out += raw
        if not found:
            raise ValueError(f"the graph has no input {input_name!r}")
        return bytes(out)

    return _edit_graph(model, edit)


def _node_ints(op: str, inputs: list[str], outputs: list[str], name: str, ints: dict[str, int]) -> bytes:
    out = _node(op, inputs, outputs, name)
    for key, value in ints.items():  # AttributeProto: name, i, type INT (2)
        out += _message(_NODE_ATTRIBUTE, _message(_ATTR_NAME, key.encode()) + _varint(_ATTR_INT << 3) + _varint(value)
                        + _varint(20 << 3) + _varint(2))
    return out


def rewrite_prelu(model: bytes) -> bytes:
    """``PRelu(x, a)`` with constant slopes -> ``x + (1 - a) * Relu(-x)`` (the same values).

    With per-channel slopes ``(C, 1, 1)`` both products are depthwise 1x1
    convolutions, which ONNX Runtime keeps in its blocked (NCHWc) layout and
    fuses with the ``Relu`` and the ``Add``. Other slopes use
    ``x + (a - 1) * Min(x, 0)``.
    """
    def edit(fields):
        tensors = {_strings(v, _TENSOR_NAME)[0]: v for f, w, v, _ in fields if f == _GRAPH_INITIALIZER}
        out, extra = bytearray(), [_tensor("prelu_rewrite_zero", np.zeros((), np.float32))]
        for f, w, v, raw in fields:
            if f == _GRAPH_NODE and _strings(v, _NODE_OP)[0] == "PRelu":
                x, slope = _strings(v, _NODE_INPUT)
                (y,) = _strings(v, _NODE_OUTPUT)
                if slope in tensors:
                    a = _read_tensor(tensors[slope]).astype(np.float32)
                    if a.ndim == 3 and a.shape[1:] == (1, 1) and a.shape[0] > 1:
                        channels = a.shape[0]
                        extra.append(_tensor(f"{slope}_negate", -np.ones((channels, 1, 1, 1), np.float32)))
                        extra.append(_tensor(f"{slope}_one_minus", (1.0 - a).reshape(channels, 1, 1, 1)))
                        nodes = [_node_ints("Conv", [x, f"{slope}_negate"], [f"{y}_negated"], f"{y}_negate",
                                            {"group": channels}),
                                 _node("Relu", [f"{y}_negated"], [f"{y}_negative_part"], f"{y}_relu"),
                                 _node_ints("Conv", [f"{y}_negative_part", f"{slope}_one_minus"], [f"{y}_scaled"],
                                            f"{y}_scale", {"group": channels}),
                                 _node("Add", [x, f"{y}_scaled"], [y], f"{y}_add")]
                    else:
                        extra.append(_tensor(f"{slope}_minus_one", a - 1.0))
                        nodes = [_node("Min", [x, "prelu_rewrite_zero"], [f"{y}_negative"], f"{y}_min"),
                                 _node("Mul", [f"{y}_negative", f"{slope}_minus_one"], [f"{y}_scaled"], f"{y}_mul"),
                                 _node("Add", [x, f"{y}_scaled"], [y], f"{y}_add")]
                    out += b"".join(_message(_GRAPH_NODE, n) for n in nodes)
                    continue
            out += raw
        return bytes(out) + b"".join(_message(_GRAPH_INITIALIZER, t) for t in extra)

    return drop_unused_initializers(_edit_graph(model, edit))
