"""Tests of the ground tool's telemetry decoding (notes/test-plan.md, TP-4xx)."""

import pytest
import telemetry
from telemetry import CHANNELS, FrameError, Level


def test_crc16_check_value():
    # the standard check value of CRC-16/CCITT-FALSE
    assert telemetry.crc16(b"123456789") == 0x29B1


def test_round_trip():
    frame = telemetry.decode_frame(telemetry.encode_frame(42, [(1, 3412), (4, 800)]))
    assert frame.seq == 42
    assert [s.channel.name for s in frame.samples] == ["BATT_V", "BUS_I"]
    assert frame.samples[0].value == pytest.approx(30.0, abs=0.01)


@pytest.mark.parametrize(
    "mangle, reason",
    [
        (lambda f: b"\x00\x00" + f[2:], "bad sync"),
        (lambda f: f[:-1], "length"),
        (lambda f: f[:-1] + bytes([f[-1] ^ 1]), "CRC mismatch"),
    ],
)
def test_bad_frames_rejected(mangle, reason):  # REQ-401
    frame = telemetry.encode_frame(7, [(2, 2000)])
    with pytest.raises(FrameError, match=reason):
        telemetry.decode_frame(mangle(frame))


def test_calibrate_interpolates():  # REQ-402
    batt_t = CHANNELS[2]
    assert telemetry.calibrate(batt_t, 1200) == pytest.approx(0.0)
    assert telemetry.calibrate(batt_t, 2100) == pytest.approx(20.0)
    assert telemetry.calibrate(CHANNELS[1], 0) == pytest.approx(0.0)


def test_calibrate_full_scale():  # REQ-402: the whole ADC range, 0..4095
    assert telemetry.calibrate(CHANNELS[1], telemetry.ADC_MAX) == pytest.approx(36.0)


def test_calibrate_outside_range():
    with pytest.raises(ValueError, match="outside"):
        telemetry.calibrate(CHANNELS[1], 5000)


@pytest.mark.parametrize(
    "value, level",
    [(30.0, Level.GREEN), (33.5, Level.YELLOW), (34.0, Level.RED), (23.9, Level.RED)],
)
def test_limits_inclusive(value, level):  # REQ-403
    assert telemetry.check_limits(CHANNELS[1], value) is level


def test_missing_frames_across_wrap():
    assert telemetry.missing_frames([65533, 65534, 1, 2]) == 2
