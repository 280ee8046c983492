"""The ground tool: decode a file of telemetry frames and report the limit violations.

    python3 cli.py decode pass.bin      # frames as written by the ground station (length-prefixed)
    python3 cli.py simulate pass.bin    # write a simulated pass to try it on

Owner: Ana Garcia (ground segment). FIXME(agarcia): read frames from the station's socket,
not only from files (GND-15).
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

import telemetry

LENGTH = struct.Struct(">H")  # each frame in a file is preceded by its length


def read_frames(path: Path) -> list[bytes]:
    data, frames, at = path.read_bytes(), [], 0
    while at + LENGTH.size <= len(data):
        (size,) = LENGTH.unpack_from(data, at)
        at += LENGTH.size
        frames.append(data[at : at + size])
        at += size
    return frames


def simulate(path: Path, frames: int = 50, seed: int = 7) -> None:
    rng = random.Random(seed)
    out = bytearray()
    for seq in range(frames):
        if rng.random() < 0.05:
            continue  # a frame lost on the link
        samples = [
            (1, rng.randint(3000, 3700)),  # battery voltage, sometimes low
            (2, rng.randint(1500, 3200)),
            (3, rng.randint(1200, 2900)),
            (4, rng.randint(500, 3500)),
        ]
        frame = telemetry.encode_frame(seq, samples)
        out += LENGTH.pack(len(frame)) + frame
    path.write_bytes(bytes(out))


def decode(path: Path) -> int:
    seqs, bad, violations = [], 0, 0
    for raw in read_frames(path):
        try:
            frame = telemetry.decode_frame(raw)
        except telemetry.FrameError as e:
            bad += 1
            print(f"rejected: {e}")
            continue
        seqs.append(frame.seq)
        for s in frame.samples:
            if s.level is not telemetry.Level.GREEN:
                violations += 1
                print(
                    f"frame {frame.seq:5d}  {s.channel.name:<10} {s.value:9.2f} "
                    f"{s.channel.unit:<6} {s.level.name}"
                )
    print(
        f"{len(seqs)} frames decoded, {bad} rejected, "
        f"{telemetry.missing_frames(seqs)} missing, {violations} limit violations"
    )
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("decode").add_argument("file", type=Path)
    sub.add_parser("simulate").add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "simulate":
        simulate(args.file)
        return 0
    return decode(args.file)


if __name__ == "__main__":
    sys.exit(main())
