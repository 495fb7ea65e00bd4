package syntax

import (
	"regexp"
	"strings"
	"testing"
)

const cascade5 = `# FuseMax 1-pass attention (Cascade 5)
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

func TestParseCascade5(t *testing.T) {
	f, err := ParseFile("c5.einsum", []byte(cascade5))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Cascades) != 1 || f.Cascades[0].Name != "attention_1pass" {
		t.Fatalf("cascades: %+v", f.Cascades)
	}
	items := f.Cascades[0].Items
	if got := len(items); got != 11 {
		t.Fatalf("items = %d, want 11", got)
	}
	it := items[9].Iterate
	if it == nil || it.Var.Text != "m1" || len(it.Body) != 11 {
		t.Fatalf("iterate block not parsed: %+v", items[9])
	}
	lm := it.Body[1].Stmt
	if lm == nil || len(lm.Reducers) != 1 || lm.Reducers[0].Op != "max" || lm.Reducers[0].Ranks[0].Text != "m0" {
		t.Fatalf("LM reducer not parsed: %+v", lm)
	}
	if len(f.Comments) != 1 || f.Comments[0].Pos.Line != 1 {
		t.Fatalf("comments: %+v", f.Comments)
	}
}

func TestParseForms(t *testing.T) {
	ok := []string{
		"cascade c { ranks K\n input A[k], B[k]\n output Z\n Y = A[k] * B[k]; Z = Y * A[k] }",
		"cascade c { ranks M, P\n input QK[m,p]\n output S[m,p]\n S[m: m <= p && m >= p - 4, p] = exp(QK[m, p]) }",
		"cascade c { ranks M, P\n input QK[m,p]\n output GM[p]\n GM[p] = QK[m,p] :: ∨_m max(∪) }",
		"cascade c { ranks M, P\n input QK[m,p]\n output S[m,p]\n S[m,p] = e^(QK[m,p] − 1.5e-3) × 2 }",
		"cascade c { ranks M\n input A[m]\n output R\n R[m1:m1=0] = -∞ }",
		"cascade a { ranks K input A[k] output Z Z = A[k] } cascade b { ranks K input A[k] output Z Z = A[k] :: max(k) }",
		"cascade c { ranks E, P\n input Q[e,p]\n output S[p]\n S[p] = sigmoid(-Q[e,p] / sqrt(E)) + relu(abs(log(2))) :: sum(e) }",
	}
	for _, src := range ok {
		if _, err := ParseFile("t.einsum", []byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"cascade {", "t.einsum:1:9:"},
		{"cascade c { ranks M\n  X[m] = = 1 }", "t.einsum:2:10:"},
		{"cascade c { ranks M\n  X[m] = $ }", "t.einsum:2:10: unexpected character"},
		{"cascade c { ranks M\n", "t.einsum:1:11: this \"{\" is never closed: \"}\" missing before the end of the file"},
		// An unclosed bracket is reported where it opens, not where the parser gave up.
		{"cascade c { ranks K\n Z[k] = (A[k] + 1\n}", "t.einsum:2:9: this \"(\" is not closed: \")\" expected before the \"}\" at line 3, column 1"},
		{"cascade c { ranks K\n Z[k] = A[k]) }", "t.einsum:1:11: this \"{\" is not closed: \"}\" expected before the \")\""},
		{"Z[k] = A[k]) }", "t.einsum:1:12: unmatched \")\""},
		{"cascade c { ranks K\n Z = A[k] ::\n}", "t.einsum:3:1: unexpected token \"}\"; expected a reducer: max(RANK), min(RANK) or sum(RANK)"},
		{"cascade c {\n ranks K K\n input A[k]\n}", `t.einsum:3:2: unexpected token "input"; expected "=" (a name before it began an Einsum: do its declaration's names lack a comma`},
		{"cascade c { ranks K\n Z[] = A[k]\n}", "t.einsum:2:4: unexpected token \"]\"; expected an index expression"},
		{"a\x00b", "t.einsum:1:2: file contains a NUL byte"},
		{"cascade c { ranks K\n Y[k] = \xff }", "t.einsum:2:9: invalid UTF-8"},
		// Nesting is bounded before the recursive parser runs (300,000
		// parentheses overflowed the stack), for every bracket and unary minus.
		{"cascade c { ranks K\n Y[k] = " + strings.Repeat("(", 30000) + "A[k]" + strings.Repeat(")", 30000) + " }",
			"t.einsum:2:264: nested more than 256 levels deep"},
		{"cascade c { ranks K\n Y[k] = " + strings.Repeat("-", 30000) + "A[k] }", "nested more than"},
		{"cascade c { ranks K\n Y[k] = A[" + strings.Repeat("(", 30000) + "k" + strings.Repeat(")", 30000) + "] }", "nested more than"},
		{"cascade c {" + strings.Repeat(" iterate m until m >= M {", 3000) + " }", "nested more than"},
		{strings.Repeat("#", MaxFileBytes+1), "t.einsum:1:1: file is over 131072 bytes (128 KiB), the most a cascade file may hold"},
	}
	for _, c := range cases {
		_, err := ParseFile("t.einsum", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.80q: got %.200v, want %q", c.src, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(cascade5)
	f.Add("cascade c { ranks K\n input A[k], B[k]\n output Z\n Y = A[k] * B[k]; Z = Y * A[k] }")
	f.Add("cascade c { ranks M, P\n input QK[m,p]\n output S[m,p]\n S[m: m <= p, p] = exp(QK[m, p]) }")
	f.Fuzz(func(t *testing.T, src string) {
		file, err := ParseFile("fuzz.einsum", []byte(src))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.einsum:") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		// What parses must print, and the printed form must parse to the same text.
		out := Format(file)
		again, err := ParseFile("fuzz.einsum", []byte(out))
		if err != nil {
			t.Fatalf("printed form does not parse: %v\n%s", err, out)
		}
		if out2 := Format(again); out2 != out {
			t.Fatalf("printing is not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

// TestParseErrorsSpeakTheLanguage: no grammar rule names in messages.
func TestParseErrorsSpeakTheLanguage(t *testing.T) {
	srcs := []string{
		"cascade c {\n Z = A[k] ::\n}", "cascade c {\n Z[] = A[k]\n}", "cascade c {\n Z[k] = A[k] :: max()\n}",
		"cascade c {\n Z[k] = \n}", "cascade c {\n ranks K, \n}", "cascade c {\n split K into\n}",
		"cascade c {\n iterate m until {\n}\n}", "cascade c {\n input \n}", "cascade c {\n Z[k] = A[k] * \n}",
	}
	rules := regexp.MustCompile(`\b(Reducer|Index|Expr|Term|Unary|Primary|Cond|DataCond|Name|Item|Stmt|Access|Affine|AffTerm|TensorDecl|TensorList)\b|\(expected`)
	for _, src := range srcs {
		_, err := ParseFile("t.einsum", []byte(src))
		if err == nil {
			t.Errorf("%q parsed", src)
		} else if m := rules.FindString(err.Error()); m != "" {
			t.Errorf("%q: %v: grammar internals (%s) in the message", src, err, m)
		}
	}
}

// TestParseNestingAllowed: the limit leaves room for deep real expressions.
func TestParseNestingAllowed(t *testing.T) {
	src := "cascade c { ranks K\n input A[k]\n output Y[k]\n Y[k] = " + strings.Repeat("(", MaxNesting-2) + "A[k]" + strings.Repeat(")", MaxNesting-2) + " }"
	if _, err := ParseFile("t.einsum", []byte(src)); err != nil {
		t.Fatal(err)
	}
}

// TestFormatIdempotent: formatting fmt's output changes nothing. Statements
// that shared a source line print on lines of their own, so alignment runs
// are taken from the printed lines (FuzzParse found the case below; its
// corpus under testdata/fuzz keeps it and later findings).
func TestFormatIdempotent(t *testing.T) {
	srcs := []string{
		"cascade c {\n  ranks K\n  input A[k]\n  output Z[k]\n  LONGNAME[k]   = A[k]\n  Y[k]          = A[k]; Z[k] = Y[k] + LONGNAME[k]\n}\n",
		"cascade c {\n  A[k] = B[k]; CC[k] = D[k]\n  EEE[k] =\n F[k]\n}\n",
		cascade5,
	}
	for _, src := range srcs {
		f, err := ParseFile("t.einsum", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		once := Format(f)
		g, err := ParseFile("t.einsum", []byte(once))
		if err != nil {
			t.Fatal(err)
		}
		if twice := Format(g); twice != once {
			t.Errorf("fmt of fmt differs:\n%s---\n%s", once, twice)
		}
	}
}

func TestFormatCanonical(t *testing.T) {
	f, err := ParseFile("c5.einsum", []byte(cascade5))
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(f); got != cascade5 {
		t.Errorf("Cascade 5 does not print back as written:\n%s", got)
	}
}

func TestFormatASCII(t *testing.T) {
	cases := []struct{ in, want string }{
		{"cascade c{ranks M,P output partial Y[m,p] Y[m:Sel[m,p]≠-1.5&&m≤p,p]=X[m,p]-(p-m) Z[m,p]=G[m,p]::topk(m,3)}",
			"cascade c {\n  ranks M, P\n  output partial Y[m, p]\n  Y[m: Sel[m, p] != -1.5 && m <= p, p] = X[m, p] - (p - m)\n  Z[m, p] = G[m, p] :: topk(m, 3)\n}\n"},
		{"cascade c{ranks M,P input QK[m,p] output GM[p] GM[p]=QK[m,p]::∨_m max(∪)}",
			"cascade c {\n  ranks M, P\n  input QK[m, p]\n  output GM[p]\n  GM[p] = QK[m, p] :: max(m)\n}\n"},
		{"cascade c { ranks M\n  R[m1:m1=0] = -∞ # seed\n  S[m] = e^(R[m] − 1) × 2\n}",
			"cascade c {\n  ranks M\n  R[m1: m1 == 0] = -inf  # seed\n  S[m] = exp(R[m] - 1) * 2\n}\n"},
	}
	for _, c := range cases {
		f, err := ParseFile("t.einsum", []byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := Format(f); got != c.want {
			t.Errorf("Format(%q) =\n%s\nwant\n%s", c.in, got, c.want)
		}
	}
}

// BenchmarkParseFormatLargest parses and formats a file at the size limit
// whose statement is one long line (fmt was quadratic in the line's length:
// a 1.4 MB line took 171 s). go test -bench ParseFormat ./einsum/syntax
func BenchmarkParseFormatLargest(b *testing.B) {
	src := "cascade c {\n  ranks K\n  input A[k]\n  output Z[k]\n  Z[k] = A[k]"
	for len(src) < MaxFileBytes-20 {
		src += " + A[k]"
	}
	src += "\n}\n"
	for b.Loop() {
		f, err := ParseFile("b.einsum", []byte(src))
		if err != nil {
			b.Fatal(err)
		}
		Format(f)
	}
}
