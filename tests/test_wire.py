"""The frames between the grader and its workers: what the grader refuses to parse, and at what cost."""
import socket
import struct
import time
import tracemalloc

import pytest
import torch

from grader.sandbox.runtime import wire


def test_plain_data_and_tensors_cross_and_come_back_equal():
    message = {"value": [1, 2.5, "x", None, True, torch.arange(6).reshape(2, 3), {"inner": [torch.ones(2)]}]}
    back = wire.decode(*_split(wire.encode(message)))
    assert back["value"][:5] == [1, 2.5, "x", None, True]
    assert torch.equal(back["value"][5], torch.arange(6).reshape(2, 3))
    assert torch.equal(back["value"][6]["inner"][0], torch.ones(2))


def _split(data):
    header_len, payload_len = struct.unpack(">II", data[:8])
    return data[8:8 + header_len], data[8 + header_len:]


def test_sixteen_million_empty_lists_are_refused_before_they_are_parsed():
    header = b'{"value": {"__dict__": {"value": [' + b"[]," * 16_000_000 + b'[]]}}, "sizes": []}'
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(wire.WireError, match="at most 100000 lists"):
        wire.decode(header, b"")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1 << 20 and time.monotonic() - started < 5   # nothing of the 16 million lists was built


def test_an_answer_whose_json_is_over_its_limit_is_refused_unread():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(struct.pack(">II", wire.MAX_HEADER + 1, 0))
        with pytest.raises(wire.WireError, match="besides its tensors"):
            wire.receive(ours, limit=wire.MAX_ANSWER)


def test_deep_nesting_and_unknown_tags_are_refused():
    deep = b'{"value": ' + b"[" * 40 + b"]" * 40 + b', "sizes": []}'
    with pytest.raises(wire.WireError, match="nested deeper"):
        wire.decode(deep, b"")
    with pytest.raises(wire.WireError, match="unknown tag"):
        wire.decode(b'{"value": {"__pickle__": "x"}, "sizes": []}', b"")
