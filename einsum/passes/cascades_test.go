package passes_test

// The cascades of CASCADES.md and issue 2, as text; the kernel library
// holds the same cascades once it lands.

const attention3 = `# Cascade 4 (FuseMax paper): 3-pass attention
cascade attention_3pass {
  ranks E, F, M, P
  input Q[e, p], K[e, m], V[f, m]
  output AV[f, p]
  QK[m, p] = Q[e, p] * K[e, m]
  GM[p]    = QK[m, p] :: max(m)
  SN[m, p] = exp(QK[m, p] - GM[p])
  SD[p]    = SN[m, p]
  A[m, p]  = SN[m, p] / SD[p]
  AV[f, p] = A[m, p] * V[f, m]
}
`

const attention2 = `# 2-pass attention: online normaliser, then a second traversal
cascade attention_2pass {
  ranks E, F, M, P
  split M into M1, M0
  input Q[e, p], K[e, m], V[f, m]
  output AV[f, p]
  BK[e, m1, m0] = K[e, m1*M0 + m0]
  BV[f, m1, m0] = V[f, m1*M0 + m0]
  RM[0, p] = -inf
  RD[0, p] = 0
  iterate m1 until m1 >= M1 {
    QK[m1, m0, p] = Q[e, p] * BK[e, m1, m0]
    LM[m1, p]     = QK[m1, m0, p] :: max(m0)
    RM[m1+1, p]   = max(RM[m1, p], LM[m1, p])
    SLD[m1, p]    = exp(QK[m1, m0, p] - RM[m1+1, p])
    RD[m1+1, p]   = RD[m1, p] * exp(RM[m1, p] - RM[m1+1, p]) + SLD[m1, p]
  }
  A[m1, m0, p] = exp(QK[m1, m0, p] - RM[M1, p]) / RD[M1, p]
  AV[f, p]     = A[m1, m0, p] * BV[f, m1, m0]
}
`

const attention1 = `# FuseMax 1-pass attention (Cascade 5)
cascade attention_1pass {
  ranks E, F, M, P
  split M into M1, M0
  input Q[e, p], K[e, m], V[f, m]
  output AV[f, p]

  BK[e, m1, m0] = K[e, m1*M0 + m0]
  BV[f, m1, m0] = V[f, m1*M0 + m0]
  RM[0, p] = -inf
  RD[0, p] = 0
  RNV[f, 0, p] = 0

  iterate m1 until m1 >= M1 {
    QK[m1, m0, p]   = Q[e, p] * BK[e, m1, m0]
    LM[m1, p]       = QK[m1, m0, p] :: max(m0)
    RM[m1+1, p]     = max(RM[m1, p], LM[m1, p])
    SLN[m1, m0, p]  = exp(QK[m1, m0, p] - RM[m1+1, p])
    SLD[m1, p]      = SLN[m1, m0, p]
    SLNV[f, m1, p]  = SLN[m1, m0, p] * BV[f, m1, m0]
    PRM[m1, p]      = exp(RM[m1, p] - RM[m1+1, p])
    SPD[m1, p]      = RD[m1, p] * PRM[m1, p]
    RD[m1+1, p]     = SLD[m1, p] + SPD[m1, p]
    SPNV[f, m1, p]  = RNV[f, m1, p] * PRM[m1, p]
    RNV[f, m1+1, p] = SLNV[f, m1, p] + SPNV[f, m1, p]
  }
  AV[f, p] = RNV[f, M1, p] / RD[M1, p]
}
`

const toys = `cascade toy_cascade1 { ranks K
  input A[k], B[k]
  output Z
  Y = A[k] * B[k]
  Z = Y * A[k] }
cascade toy_cascade2 { ranks K
  input A[k], B[k]
  output Z
  Y = A[k] * B[k]
  X = A[k]
  Z = Y * X }
cascade toy_cascade3 { ranks K
  input A[k], B[k]
  output Z
  RY[0] = 0
  RZ[0] = 0
  iterate k until k >= K {
    RY[k+1] = RY[k] + A[k] * B[k]
    RZ[k+1] = RZ[k] * (RY[k+1] / RY[k]) + RY[k+1] * A[k]
  }
  Z = RZ[K] }
`

const gemm = `cascade gemm {
  ranks K, M, N
  input A[k, m], B[k, n]
  output Z[m, n]
  Z[m, n] = A[k, m] * B[k, n]
}
`
