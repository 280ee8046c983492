"""Decoding and limit checking of the spacecraft's housekeeping telemetry.

A frame (big-endian), as the flight software packs it (fsw/ring_buffer.h, ICD section 4):

    sync    2 bytes  0xEB 0x90
    seq     2 bytes  frame counter, wraps at 65536
    count   1 byte   number of samples
    samples count x (channel: 1 byte, raw: 2 bytes, ADC counts 0..4095)
    crc     2 bytes  CRC-16/CCITT-FALSE over everything before it

REQ-401: a frame with a bad sync, length or CRC is rejected with the reason, never decoded.
REQ-402: raw counts are converted to engineering units by each channel's calibration table
         (piecewise linear), over the whole ADC range 0..4095.
REQ-403: limits are inclusive: a value equal to a red limit is red.
Owner: Ana Garcia (ground segment)
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

SYNC = b"\xeb\x90"
HEADER = struct.Struct(">2sHB")
SAMPLE = struct.Struct(">BH")
CRC = struct.Struct(">H")
ADC_MAX = 4095


class FrameError(ValueError):
    """A frame that cannot be decoded (REQ-401)."""


class Level(enum.IntEnum):
    GREEN = 0
    YELLOW = 1
    RED = 2


@dataclass(frozen=True)
class Channel:
    id: int
    name: str
    unit: str
    calibration: tuple[tuple[int, float], ...]  # (raw counts, engineering value), raw ascending
    yellow: tuple[float, float]  # (low, high)
    red: tuple[float, float]


CHANNELS = {
    c.id: c
    for c in (
        Channel(1, "BATT_V", "V", ((0, 0.0), (4095, 36.0)), (26.0, 33.0), (24.0, 34.0)),
        # thermistor: non-linear, so three segments (GND-9: the vendor's table has eight)
        Channel(
            2,
            "BATT_T",
            "degC",
            ((0, -40.0), (1200, 0.0), (3000, 40.0), (4095, 85.0)),
            (0.0, 40.0),
            (-10.0, 50.0),
        ),
        Channel(
            3, "WHEEL_SPD", "rad/s", ((0, -600.0), (4095, 600.0)), (-400.0, 400.0), (-500.0, 500.0)
        ),
        Channel(4, "BUS_I", "A", ((0, 0.0), (4095, 10.0)), (0.0, 6.0), (0.0, 8.0)),
    )
}


@dataclass(frozen=True)
class Sample:
    channel: Channel
    raw: int
    value: float
    level: Level


@dataclass(frozen=True)
class Frame:
    seq: int
    samples: tuple[Sample, ...]


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as the flight software computes it."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def calibrate(channel: Channel, raw: int) -> float:
    """Raw ADC counts to engineering units, interpolating in the channel's table (REQ-402)."""
    table = channel.calibration
    if not table[0][0] <= raw <= table[-1][0]:
        raise ValueError(f"{channel.name}: raw value {raw} outside the calibrated range")
    for i in range(len(table)):
        (r0, e0), (r1, e1) = table[i], table[i + 1]
        if raw < r1:
            return e0 + (e1 - e0) * (raw - r0) / (r1 - r0)
    raise AssertionError("unreachable")


def check_limits(channel: Channel, value: float) -> Level:
    """The value's limit state: red outside the red limits, inclusive (REQ-403), then yellow."""
    if value <= channel.red[0] or value >= channel.red[1]:
        return Level.RED
    if value <= channel.yellow[0] or value >= channel.yellow[1]:
        return Level.YELLOW
    return Level.GREEN


def encode_frame(seq: int, samples: list[tuple[int, int]]) -> bytes:
    """A frame as the flight software sends it (for tests and the simulator)."""
    body = HEADER.pack(SYNC, seq & 0xFFFF, len(samples))
    body += b"".join(SAMPLE.pack(channel, raw) for channel, raw in samples)
    return body + CRC.pack(crc16(body))


def decode_frame(data: bytes) -> Frame:
    """One frame, checked (REQ-401), calibrated (REQ-402) and limit-checked (REQ-403)."""
    if len(data) < HEADER.size + CRC.size:
        raise FrameError(f"frame too short: {len(data)} bytes")
    sync, seq, count = HEADER.unpack_from(data)
    if sync != SYNC:
        raise FrameError(f"bad sync {sync.hex()}")
    expected = HEADER.size + count * SAMPLE.size + CRC.size
    if len(data) != expected:
        raise FrameError(f"length {len(data)} bytes, the header says {expected}")
    (crc,) = CRC.unpack_from(data, len(data) - CRC.size)
    if crc != crc16(data[: -CRC.size]):
        raise FrameError(f"CRC mismatch in frame {seq}")
    samples = []
    for n in range(count):
        channel_id, raw = SAMPLE.unpack_from(data, HEADER.size + n * SAMPLE.size)
        channel = CHANNELS.get(channel_id)
        if channel is None:
            # TODO(agarcia, GND-12): keep unknown channels as raw values instead of rejecting
            raise FrameError(f"unknown channel {channel_id} in frame {seq}")
        value = calibrate(channel, raw)
        samples.append(Sample(channel, raw, value, check_limits(channel, value)))
    return Frame(seq, tuple(samples))


def missing_frames(seqs: list[int]) -> int:
    """Frames lost between consecutive counters (the counter wraps at 65536)."""
    return sum((b - a - 1) % 65536 for a, b in zip(seqs, seqs[1:], strict=False))
