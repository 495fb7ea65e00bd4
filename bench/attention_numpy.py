#!/usr/bin/env python3
"""NumPy baseline for `make bench`: 3-pass attention in float32 over
256-query chunks, the layout of fusemax's attention cascades
(Q[e, p], K[e, m], V[f, m], AV[f, p]).

usage: attention_numpy.py IN_DIR OUT_DIR
Reads IN_DIR/{Q,K,V}.npy, writes OUT_DIR/AV.npy and prints the compute time
(the three passes, excluding start-up and I/O) as `compute_s SECONDS`.
BLAS threads follow OPENBLAS_NUM_THREADS (bench/compare.sh sets 1).
"""
import os
import sys
import time

import numpy as np

CHUNK = 256


def attention(q, k, v):
    e, p = q.shape
    av = np.empty((v.shape[0], p), dtype=np.float32)
    for p0 in range(0, p, CHUNK):
        s = k.T @ q[:, p0:p0 + CHUNK]          # pass 1: scores, M x chunk
        s -= s.max(axis=0, keepdims=True)      # pass 2: stable softmax
        np.exp(s, out=s)
        den = s.sum(axis=0, keepdims=True)
        av[:, p0:p0 + CHUNK] = (v @ s) / den   # pass 3: weighted sum
    return av


def main():
    src, dst = sys.argv[1], sys.argv[2]
    q, k, v = (np.load(os.path.join(src, n + ".npy")) for n in "QKV")
    t0 = time.perf_counter()
    av = attention(q, k, v)
    t1 = time.perf_counter()
    os.makedirs(dst, exist_ok=True)
    np.save(os.path.join(dst, "AV.npy"), av)
    print("compute_s %.6f" % (t1 - t0))


if __name__ == "__main__":
    main()
