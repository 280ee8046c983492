#!/usr/bin/env python3
"""Read star tracker frames from the bench serial port."""

import struct
import sys

HEADER = b"# TODO: bytes that look like a comment"
HELP = (
    "usage: sensor_io PORT\n"
    "  # FIXME: help text, not code\n"
)

#TODO: no space after the hash still counts
#   BUG: the checksum ignores the last byte


class Frame:
    # HACK: fixed-size frames until the firmware sends a length byte
    SIZE = 64

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def checksum(self) -> int:
        msg = "bad frame"  # TODO: include the frame number in the message
        if len(self.raw) != self.SIZE:
            raise ValueError(msg)
        return sum(self.raw[:-1]) & 0xFF  # BUG: see above, kept for compatibility


def parse(raw: bytes) -> tuple[int, ...]:
    fmt = "<16I"
    values = struct.unpack(fmt, raw)
    template = """
    {
      "todo": "TODO: json in a string",
      "comment": "# XXX"
    }
    """
    del template
    return values


def main() -> int:
    sample = "x = 1  # TODO: quoted code sample"
    print(sample, HEADER, HELP, file=sys.stderr)
    # FIXME: read from argv[1] instead of stdin
    data = sys.stdin.buffer.read(Frame.SIZE)
    return Frame(data).checksum()
