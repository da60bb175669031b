#!/usr/bin/env python3.11
"""Writes the G.711 mu-law reference tables that src/audio/mulaw.rs is tested against.

Run from this directory with Python 3.11 (the last release that ships `audioop`):

    python3.11 generate_mulaw.py

`audioop.lin2ulaw` / `audioop.ulaw2lin` are CPython's copy of the classic Sun/CCITT
reference `g711.c`. Every value is also computed a second, independent way, straight from
the G.711 segment definition (decision and reconstruction levels, found by bisection), and
the script refuses to write anything unless both agree.

Outputs:
  mulaw_decode.txt  256 lines "code value": the 16-bit sample each code decodes to.
  mulaw_encode.bin  65,536 bytes: the code of every i16 sample, in order from -32768 to 32767.
"""

import bisect
import struct
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # audioop is gone in 3.13
    import audioop


def spec_levels():
    """G.711 mu-law on 14-bit magnitudes: 8 segments of 16 intervals; segment s has step 2 << s.

    With the bias of 33, segment s covers biased magnitudes [32 << s, 64 << s), so interval
    (s, q) starts at ((32 + 2q) << s) - 33 and reconstructs at ((33 + 2q) << s) - 33.
    """
    starts, values = [], []
    for s in range(8):
        for q in range(16):
            starts.append(((32 + 2 * q) << s) - 33)
            values.append(((33 + 2 * q) << s) - 33)
    return starts, values


STARTS, VALUES = spec_levels()


def spec_encode(sample16):
    # 16 -> 14 bits by flooring division, as the reference's arithmetic shift does.
    x = sample16 >> 2
    negative = x < 0
    magnitude = -x if negative else x
    # Interval index = number of interval starts <= magnitude, minus one; beyond the top
    # interval the code saturates at the top one.
    n = min(bisect.bisect_right(STARTS, magnitude) - 1, 127)  # (segment << 4) | step
    # On the wire the sign bit is 1 for positive values and the other seven bits are inverted.
    return ((0x00 if negative else 0x80) | n) ^ 0x7F


def spec_decode(code):
    inverted = ~code & 0xFF
    negative = inverted & 0x80
    n = inverted & 0x7F
    value = VALUES[n] * 4  # back to the 16-bit scale
    return -value if negative else value


def main():
    decode = []
    for code in range(256):
        (ref,) = struct.unpack("<h", audioop.ulaw2lin(bytes([code]), 2))
        spec = spec_decode(code)
        if ref != spec:
            sys.exit(f"decode disagreement at code {code}: audioop {ref}, spec {spec}")
        decode.append(ref)

    samples = range(-32768, 32768)
    pcm = struct.pack(f"<{len(samples)}h", *samples)
    encode = audioop.lin2ulaw(pcm, 2)
    for sample, ref in zip(samples, encode):
        spec = spec_encode(sample)
        if ref != spec:
            sys.exit(f"encode disagreement at sample {sample}: audioop {ref:#04x}, spec {spec:#04x}")

    with open("mulaw_decode.txt", "w") as f:
        for code, value in enumerate(decode):
            f.write(f"{code} {value}\n")
    with open("mulaw_encode.bin", "wb") as f:
        f.write(encode)
    print("audioop and the from-spec implementation agree on all 256 codes and 65,536 samples")


if __name__ == "__main__":
    main()
