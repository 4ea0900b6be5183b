#!/usr/bin/python3
"""Independent reference for ncopt's generator (tests/test_core.c).

A from-scratch Python implementation of splitmix64 seeding, xoshiro256**
(Blackman & Vigna, https://prng.di.unimi.it/xoshiro256starstar.c), the
53-bit uniform, Lemire's bounded integers and Marsaglia's polar method
(with math.log). Prints the values that tests/test_core.c hard-codes.
Run: /usr/bin/python3 scripts/rng_reference.py
"""
import math

M = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


class Xoshiro:
    def __init__(self, seed):
        x = seed & M
        self.s = []
        for _ in range(4):
            x, z = splitmix64(x)
            self.s.append(z)
        self.spare = None

    def u64(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.u64() >> 11) * 2.0**-53

    def below(self, n):
        m = self.u64() * n
        low = m & M
        if low < n:
            t = ((1 << 64) - n) % n
            while low < t:
                m = self.u64() * n
                low = m & M
        return m >> 64

    def normal(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        while True:
            u = 2 * self.uniform() - 1
            v = 2 * self.uniform() - 1
            s = u * u + v * v
            if 0 < s < 1:
                break
        f = math.sqrt(-2 * math.log(s) / s)
        self.spare = v * f
        return u * f


for seed in (0, 42):
    r = Xoshiro(seed)
    print(f"seed {seed} u64:", ", ".join(f"0x{r.u64():016x}ULL" for _ in range(4)))
r = Xoshiro(7)
print("seed 7 uniform:", ", ".join(repr(r.uniform()) for _ in range(3)))
r = Xoshiro(7)
print("seed 7 below(10):", ", ".join(str(r.below(10)) for _ in range(8)))
r = Xoshiro(123)
print("seed 123 normal:", ", ".join(repr(r.normal()) for _ in range(4)))
