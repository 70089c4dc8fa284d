"""Frames between the grader and its workers: a JSON header plus raw tensor bytes, never pickle.

Values are None, bool, int, float, str, lists, string-keyed dicts and plain tensors. Anything else
a worker meets (a tensor subclass, an object with its own __eq__) crosses as an opaque
description, so the grader only ever holds plain ``torch.Tensor`` objects and Python primitives.
This module is self-contained: workers load it as a plain file, without the grader package.
"""
import itertools
import json
import math
import struct
import time

import torch

MAX_FRAME = 1 << 30          # what the grader sends (the training data is about 55 MB)
MAX_ANSWER = 64 << 20        # what a worker may send back, tensors included
MAX_HEADER = 4 << 20         # the JSON part of one frame: everything but the tensors' bytes
MAX_CONTAINERS = 100_000     # lists and objects in one frame's JSON, counted before it is parsed
MAX_TENSORS = 50_000
MAX_DEPTH = 32
_HEADER = struct.Struct(">II")  # header length, payload length
DTYPES = {str(t).removeprefix("torch."): t for t in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int8,
    torch.int16, torch.int32, torch.int64, torch.bool)}


class WireError(ValueError):
    """A frame that is malformed, too large, or holds something that is not plain data."""


class Opaque:
    """A value that could not cross as data; only its description did (for example a subclass)."""

    def __init__(self, description):
        self.description = description

    def __repr__(self):
        return f"<{self.description}>"


def _encode(value, blobs):
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if kind in (list, tuple):
        return [_encode(item, blobs) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {"__dict__": {key: _encode(item, blobs) for key, item in value.items()}}
    if kind is torch.Tensor:
        return {"__tensor__": _tensor_header(value, blobs)}
    return {"__opaque__": _describe(value)}


def _tensor_header(tensor, blobs):
    dtype = str(tensor.dtype).removeprefix("torch.")
    if dtype not in DTYPES:
        return {"dtype": dtype, "shape": list(tensor.shape), "device": str(tensor.device), "blob": None}
    header = {"dtype": dtype, "shape": list(tensor.shape), "device": str(tensor.device), "blob": None,
              "requires_grad": bool(tensor.requires_grad)}
    if tensor.device.type != "meta":
        data = tensor.detach().to("cpu", copy=True).contiguous().reshape(-1)
        blobs.append(data.view(torch.uint8).numpy().tobytes() if data.numel() else b"")
        header["blob"] = len(blobs) - 1
    return header


def _describe(value):
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(value, torch.Tensor):
        return f"{name} (a subclass of torch.Tensor)"
    return f"{name} object"


def encode(message):
    """Serialise a message (plain data and tensors) into one frame."""
    blobs = []
    header = json.dumps({"value": _encode(message, blobs), "sizes": [len(b) for b in blobs]}).encode()
    payload = b"".join(blobs)
    if len(header) + len(payload) > MAX_FRAME:
        raise WireError("message too large")
    return _HEADER.pack(len(header), len(payload)) + header + payload


def decode(header_bytes, payload):
    """Rebuild a message from a frame's parts, accepting only plain data; the JSON is parsed only once it is
    known to hold at most MAX_CONTAINERS lists and objects, so parsing it cannot take much memory."""
    if header_bytes.count(b"[") + header_bytes.count(b"{") > MAX_CONTAINERS:
        raise WireError(f"a frame may hold at most {MAX_CONTAINERS} lists and objects")
    try:
        header = json.loads(header_bytes)
        sizes = header["sizes"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise WireError(f"malformed frame header: {error}") from None
    if type(sizes) is not list or len(sizes) > MAX_TENSORS or any(type(s) is not int or s < 0 for s in sizes):
        raise WireError(f"a frame may carry at most {MAX_TENSORS} tensors")
    if sum(sizes) != len(payload):
        raise WireError("frame payload does not match its header")
    offsets = [0, *itertools.accumulate(sizes)][:-1]
    return _decode(header["value"], payload, sizes, offsets, 0)


def _decode(value, payload, sizes, offsets, depth):
    if depth > MAX_DEPTH:
        raise WireError(f"values nested deeper than {MAX_DEPTH} levels")
    if value is None or type(value) in (bool, float, str):
        return value
    if type(value) is int:
        return value if abs(value) < 1 << 63 else Opaque(f"int with {len(str(abs(value)))} digits")
    if type(value) is list:
        return [_decode(item, payload, sizes, offsets, depth + 1) for item in value]
    if type(value) is not dict or len(value) != 1:
        raise WireError("unexpected value in frame")
    (tag, body), = value.items()
    if tag == "__dict__" and type(body) is dict:
        return {str(k): _decode(v, payload, sizes, offsets, depth + 1) for k, v in body.items()}
    if tag == "__float__" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "__opaque__":
        return Opaque(str(body))
    if tag == "__tensor__" and type(body) is dict:
        return _decode_tensor(body, payload, sizes, offsets)
    raise WireError(f"unknown tag {tag!r} in frame")


def _decode_tensor(body, payload, sizes, offsets):
    dtype, shape, blob = DTYPES.get(body.get("dtype")), body.get("shape"), body.get("blob")
    if type(shape) is not list or any(type(d) is not int or d < 0 for d in shape):
        raise WireError("bad tensor shape in frame")
    if dtype is None:
        return Opaque(f"tensor of unsupported dtype {body.get('dtype')}")
    if blob is None:
        return torch.empty(shape, dtype=dtype, device="meta")
    if type(blob) is not int or not 0 <= blob < len(sizes):
        raise WireError("bad tensor reference in frame")
    count = math.prod(shape)
    if count * dtype.itemsize != sizes[blob]:
        raise WireError("tensor bytes do not match its shape and dtype")
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    raw = bytearray(payload[offsets[blob]: offsets[blob] + sizes[blob]])
    return torch.frombuffer(raw, dtype=dtype).reshape(shape)


def send(sock, message):
    """Send one message over a connected socket."""
    sock.sendall(encode(message))


def receive(sock, deadline=None, limit=MAX_FRAME):
    """Receive one message by ``deadline`` (time.monotonic()); EOFError when the other side has gone."""
    header_len, payload_len = _HEADER.unpack(_read_exactly(sock, _HEADER.size, deadline))
    if header_len + payload_len > limit:
        raise WireError(f"an answer of {header_len + payload_len} bytes is over the limit of {limit}")
    if header_len > MAX_HEADER and limit <= MAX_ANSWER:
        raise WireError(f"an answer's data of {header_len} bytes besides its tensors is over {MAX_HEADER}")
    header = _read_exactly(sock, header_len, deadline)
    return decode(header, _read_exactly(sock, payload_len, deadline))


def _read_exactly(sock, size, deadline):
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete answer in time")
            sock.settimeout(left)
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise EOFError("connection closed")
        got += n
    return bytes(buffer)
