package einsum

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Cascade {
	t.Helper()
	p, err := Parse("t.einsum", []byte(src))
	if err != nil {
		t.Fatalf("%v", err)
	}
	return p.Cascades[0]
}

func TestCheckErrors(t *testing.T) {
	head := "cascade c {\n  ranks E, M, P\n  input Q[e, p], K[e, m]\n  output Z[p]\n"
	cases := []struct {
		name, body, want string
	}{
		{"undefined tensor", "  Z[p] = X[p]\n", "t.einsum:5:10: undefined tensor X"},
		{"undefined rank variable", "  Z[p] = Q[e, q]\n", "t.einsum:5:15: q is neither a rank nor the variable of one (declare rank Q)"},
		{"arity", "  Z[p] = Q[e]\n", "t.einsum:5:10: Q has 2 dimensions, indexed here with 1"},
		{"rank mismatch", "  Z[p] = Q[p, e]\n", "Q's dimension 1 is indexed by rank E, not by p"},
		{"defined twice", "  Z[p] = Q[e, p]\n  Z[p] = Q[e, p]\n", "t.einsum:6:3: Z is already defined at t.einsum:5:3"},
		{"use before definition", "  Z[p] = S[p]\n  S[p] = Q[e, p]\n", "t.einsum:5:10: S is used before it is defined"},
		{"assign input", "  Q[e, p] = 1\n  Z[p] = Q[e, p]\n", "Q is an input; it cannot be assigned"},
		{"read out of range", "  S[m, p] = Q[e, p] * K[e, m]\n  Z[p] = S[M, p]\n", "read of S[M, p] is outside its dimension 1"},
		{"negative read", "  S[m, p] = Q[e, p] * K[e, m]\n  Z[p] = S[m - 1, p]\n", "can be -1"},
		{"recurrence without seed", "  iterate m until m >= M {\n    R[m+1, p] = R[m, p] + Q[e, p] * K[e, m]\n  }\n  Z[p] = R[M, p]\n", "t.einsum:6:5: recurrence R[m + 1, p] has no seed"},
		{"overwrite in loop", "  iterate m until m >= M {\n    S[p] = Q[e, p] * K[e, m]\n  }\n  Z[p] = S[p]\n", "S is defined inside iterate m but not indexed by m"},
		{"future read in loop", "  R[0, p] = 0\n  iterate m until m >= M {\n    X[m, p] = R[m+1, p]\n    R[m+1, p] = R[m, p] + Q[e, p] * K[e, m]\n  }\n  Z[p] = R[M, p]\n", "X reads R[m + 1, p] before this iteration defines it"},
		{"final value read in loop", "  R[0, p] = 0\n  iterate m until m >= M {\n    R[m+1, p] = R[m, p] + R[M, p] * Q[e, p] * K[e, m]\n  }\n  Z[p] = R[M, p]\n", "R reads R[M, p] inside iterate m, but that slice is written only by a later iteration"},
		{"reducer on kept var", "  Z[p] = Q[e, p] :: max(p)\n", "p is not reduced here"},
		{"max arity", "  Z[p] = max(Q[e, p])\n", "max(a, b) takes two arguments; to reduce a rank, write :: max(r)"},
		{"unknown function", "  Z[p] = tan(Q[e, p])\n", "unknown function tan"},
		{"filtered read outside everywhere", "  S[m, p] = Q[e, p] * K[e, m]\n  Z[p: p > 0] = S[M + 1, p]\n", "outside its dimension 1 at every point"},
		{"pow arity", "  Z[p] = pow(Q[e, p])\n", "pow(x, y) takes two arguments, not 1"},
		{"topk with reduction", "  Z[p] = Q[e, p] :: topk(p, 2)\n", "cannot be combined with a reduction"},
		{"topk off the left", "  S[e, p] = Q[e, p]\n  T[e, p] = S[e, p] :: topk(m, 2)\n  Z[p] = T[e, p]\n", "m is not one"},
		{"topk count", "  S[e, p] = Q[e, p] :: topk(e, 0)\n  Z[p] = S[e, p]\n", "positive integer or a rank size, not 0"},
		{"data filter of numbers", "  Z[p: 1 < 2] = Q[e, p]\n", "compares two numbers"},
		{"data filter in until", "  iterate p until Q[0, p] > 0 {\n    S[p] = Q[e, p]\n  }\n  Z[p] = S[p]\n", "cannot read tensor elements"},
		{"data filter arity", "  Z[p: K[p] > 0] = Q[e, p]\n", "K has 2 dimensions, indexed here with 1"},
		{"partial input", "  input partial X[p]\n  Z[p] = X[p]\n", "only an output can be declared partial"},
		{"non-affine", "  S[m, p] = Q[e, p] * K[e, m]\n  Z[p] = S[m*p, p]\n", "index expressions must be affine"},
		{"output never defined", "  S[p] = Q[e, p]\n", "t.einsum:4:10: output Z is never defined"},
		{"filter var not in statement", "  Z[p: p < m] = Q[e, p]\n", "filter variable m does not appear in the statement"},
		{"declaration in loop", "  iterate m until m >= M {\n    ranks X\n  }\n  Z[p] = Q[e, p]\n", "a declaration cannot appear inside an iterate block"},
		{"split undeclared", "  split N into N1, N0\n  Z[p] = Q[e, p]\n", "split of undeclared rank N"},
		{"lower-case rank", "  ranks x\n  Z[p] = Q[e, p]\n", "rank x must start with an upper-case letter"},
	}
	for _, c := range cases {
		_, err := Parse("t.einsum", []byte(head+c.body+"}\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v\nwant %q", c.name, err, c.want)
		}
	}
}

func TestCheckAccepts(t *testing.T) {
	srcs := []string{
		// causal mask through a filter; a sliding window with two conditions
		"cascade c { ranks E, M, P\n input Q[e, p], K[e, m]\n output Z[p]\n QK[m, p] = Q[e, p] * K[e, m]\n S[m: m <= p && m + 4 > p, p] = exp(QK[m, p])\n Z[p] = S[m, p] }",
		// a scaled score with the size as a value, and explicit min/sum reducers
		"cascade c { ranks E, M, P\n input Q[e, p], K[e, m]\n output Z[p], W[p]\n Z[p] = Q[e, p] * K[e, m] / sqrt(E) :: min(m) sum(e)\n W[p] = Q[e, p] :: sum(e) }",
		// two filtered definitions writing complementary points
		"cascade c { ranks K\n input A[k]\n output Z[k]\n Z[k: k == 0] = A[k]\n Z[k: k > 0] = 2 * A[k] }",
		// the added functions, index variables as values, a data filter,
		// topk with a rank size as its count, a partial output
		"cascade c { ranks M, P, T\n input X[m, p], S[m, p]\n output partial Y[m, p]\n output Z[m, p]\n Y[m, p: S[m, p] > -0.5 && m <= p] = tanh(X[m, p]) * sign(X[m, p]) + exp2(p - m) + log2(1 + abs(X[m, p])) + pow(2, m) + erf(X[m, p])\n Z[m, p] = X[m, p] :: topk(m, T) }",
	}
	for _, s := range srcs {
		mustParse(t, s)
	}
}

func TestRenderShowsCaret(t *testing.T) {
	src := "cascade c {\n  ranks M\n  input A[m]\n  output Z\n  Z = B[m]\n}\n"
	_, err := Parse("t.einsum", []byte(src))
	got := Render(err, []byte(src))
	want := "t.einsum:5:7: undefined tensor B\n\t  Z = B[m]\n\t      ^"
	if got != want {
		t.Errorf("Render:\n%s\nwant\n%s", got, want)
	}
}

// TestRenderEscapesAndClips: the echoed line never sends raw control bytes
// to the terminal, and a long line is clipped around the caret.
func TestRenderEscapesAndClips(t *testing.T) {
	src := "cascade c {\n  ranks K\n  in\x00put\x1b[2J A[k]\n}\n"
	_, err := Parse("t.einsum", []byte(src))
	got := Render(err, []byte(src))
	want := "t.einsum:3:5: file contains a NUL byte: not a text file\n\t  in\\x00put\\x1b[2J A[k]\n\t    ^"
	if got != want {
		t.Errorf("Render:\n%s\nwant\n%s", got, want)
	}
	long := "cascade c {\n  ranks K\n  Z[k] = " + strings.Repeat("A[k] + ", 10000) + "$\n}\n"
	_, err = Parse("t.einsum", []byte(long))
	got = Render(err, []byte(long))
	lines := strings.Split(got, "\n")
	if len(lines) != 3 || len(lines[1]) > 2*excerptRunes+10 || !strings.HasPrefix(lines[1], "\t...") ||
		!strings.HasSuffix(lines[1], "$") || len(lines[2]) != len(lines[1]) {
		t.Errorf("long line not clipped around the caret:\n%s", got)
	}
}

// A block whose only statement is rejected is not reported as empty too.
func TestIterateBlockNotEmpty(t *testing.T) {
	src := "cascade c {\n  ranks M\n  input A[m]\n  output Z[m]\n  iterate m until m >= M {\n    Z[m] = A[m]\n  }\n}\n"
	_, err := Parse("t.einsum", []byte(src))
	if err == nil || strings.Contains(err.Error(), "empty iterate block") || !strings.Contains(err.Error(), "output Z cannot be defined inside an iterate block") {
		t.Errorf("got %v", err)
	}
	_, err = Parse("t.einsum", []byte("cascade c {\n  ranks M\n  input A[m]\n  output Z[m]\n  Z[m] = A[m]\n  iterate m until m >= M {\n  }\n}\n"))
	if err == nil || !strings.Contains(err.Error(), "t.einsum:6:3: empty iterate block: it needs at least one statement") {
		t.Errorf("got %v", err)
	}
}
