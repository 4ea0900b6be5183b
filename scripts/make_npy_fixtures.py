#!/usr/bin/env python3
"""Writes the "as numpy writes them" .npy fixtures read by tests/test_npy.c.

Each case is a file written by np.save exactly as a user would produce it
(a transposed array, np.asfortranarray, a big-endian dtype, bool, float16,
the small integer types) plus, next to it, the values numpy itself reads
back from that file, in a form the old, already-tested reader path handles:

  tests/fixtures/npy/np_<case>.npy         the file under test
  tests/fixtures/npy/np_<case>.want.npy    np.load(file) in C order, as '<f8'
                                           (floats, bool) or '<i8' (integers)
  tests/fixtures/npy/np_<case>.bits.npy    float16 cases only: the float32
                                           bit patterns of np.load(file)
                                           .astype(np.float32), as '<i4'

so the expected values come from numpy, not from ncopt. Files numpy writes
that ncopt must refuse are np_refuse_<what>.npy. The script only writes
fixtures; the tests never run it. The committed outputs were made with
NumPy 1.24.2 (Debian 12's python3-numpy).

Usage: /usr/bin/python3 scripts/make_npy_fixtures.py   (from anywhere)
"""
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "npy")
os.makedirs(OUT, exist_ok=True)


def path(name):
    return os.path.join(OUT, name)


def case(name, arr, fortran_expected):
    """Saves arr as np_<name>.npy and numpy's reading of it as the want file."""
    f = path("np_%s.npy" % name)
    np.save(f, arr)
    # Check that np.save wrote the layout this case is meant to exercise.
    with open(f, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        _, fortran, _ = np.lib.format._read_array_header(fh, version)
    assert fortran == fortran_expected, (name, fortran)
    back = np.load(f)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    if back.dtype.kind in "iu":
        want = np.ascontiguousarray(back, dtype="<i8")
        assert (want == back).all()
    else:
        want = np.ascontiguousarray(back.astype("<f8"))
    np.save(path("np_%s.want.npy" % name), want)
    if back.dtype.kind == "f" and back.dtype.itemsize == 2:
        bits = np.ascontiguousarray(back.astype(np.float32)).view("<i4")
        np.save(path("np_%s.bits.npy" % name), np.ascontiguousarray(bits, dtype="<i4"))


def grid(shape, scale, offset, dtype):
    return (np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * scale + offset).astype(dtype)


# --- fortran_order True: what np.save writes for a transposed / F array.
# A transposed float32 (3, 4) -> shape (4, 3), F-contiguous.
case("f4_T_4x3", grid((3, 4), 0.5, -1.0, np.float32).T, True)
# A 3-d float64 np.asfortranarray of shape (2, 3, 4).
case("f8_F_2x3x4", np.asfortranarray(grid((2, 3, 4), 1.25, -7.0, np.float64)), True)
# A 4-d int32 Fortran array (2, 1, 3, 2).
case("i4_F_2x1x3x2", np.asfortranarray(grid((2, 1, 3, 2), 3, -17, np.int32)), True)

# --- big-endian dtypes, C order and combined with fortran_order.
case("be_f4_2x3", grid((2, 3), -0.75, 2.0, ">f4"), False)
case("be_f8_F_3x2", np.asfortranarray(np.array([[1e300, -2.5], [1e-300, 0.1], [-0.0, 3.0]], dtype=">f8")), True)
case("be_i4_F_2x2x2", np.asfortranarray(np.array([[[-2**31, -1], [0, 1]], [[65536, 0x12345678], [2**31 - 1, -7]]],
                                                 dtype=">i4")), True)
case("be_i8_4", np.array([-2**63, -1, 2**40 + 3, 2**63 - 1], dtype=">i8"), False)
case("be_u2_5", np.array([0, 1, 256, 0x1234, 65535], dtype=">u2"), False)
case("be_i2_T_3x2", np.array([[-32768, -1, 0x0102], [32767, 5, -300]], dtype=">i2").T, True)
case("be_u4_3", np.array([0, 0x01020304, 2**32 - 1], dtype=">u4"), False)
case("be_u8_3", np.array([0, 0x0102030405060708, 2**63 - 1], dtype=">u8"), False)

# --- bool: C order and transposed.
case("b1_2x3", np.array([[True, False, True], [False, False, True]]), False)
case("b1_T_3x2", np.array([[True, False, True], [False, True, True]]).T, True)

# --- float16: subnormals (smallest 2^-24, largest 2^-14 - 2^-24, and one
# in between), the smallest normal 2^-14, 65504 (largest finite), ±0, ±inf,
# a NaN, a negative NaN with a payload, and a rounded 1/3.
f16_bits = [0x0001, 0x03FF, 0x0155, 0x8001, 0x0400, 0x7BFF, 0xFBFF, 0x0000, 0x8000, 0x7C00, 0xFC00,
            0x7E00, 0xFD55, 0x3555, 0x3C00, 0xC000]
f16 = np.array(f16_bits, dtype="<u2").view("<f2")
case("f2_16", f16, False)
case("be_f2_16", f16.astype(">f2"), False)
case("f2_T_4x4", f16.reshape(4, 4).T, True)

# --- the small and unsigned integer types.
case("i1_5", np.array([-128, -1, 0, 1, 127], dtype="|i1"), False)
case("u1_F_2x3x2", np.asfortranarray(grid((2, 3, 2), 23, 0, np.uint8)), True)
case("i2_2x3", np.array([[-32768, -1, 0], [1, 12345, 32767]], dtype="<i2"), False)
case("u2_4", np.array([0, 1, 40000, 65535], dtype="<u2"), False)
case("u4_4", np.array([0, 1, 2**31, 2**32 - 1], dtype="<u4"), False)
case("u8_4", np.array([0, 1, 2**53 + 1, 2**63 - 1], dtype="<u8"), False)
case("i8_T_2x3", np.array([[-2**63, 1, 2], [3, 4, 2**63 - 1]], dtype="<i8").T, True)

# --- numpy writes these, ncopt refuses them (each with its own message).
np.save(path("np_refuse_u8_big.npy"), np.array([1, 2**63, 2**64 - 1], dtype="<u8"))
np.save(path("np_refuse_c16.npy"), np.array([1 + 2j], dtype="<c16"))
np.save(path("np_refuse_f16.npy"), np.array([1.5], dtype=np.longdouble))
np.save(path("np_refuse_U3.npy"), np.array(["abc", "d"]))
np.save(path("np_refuse_S2.npy"), np.array([b"ab", b"c"]))
np.save(path("np_refuse_M8.npy"), np.array(["2024-01-02"], dtype="datetime64[D]"))
np.save(path("np_refuse_m8.npy"), np.array([3], dtype="timedelta64[s]"))
np.save(path("np_refuse_struct.npy"), np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
