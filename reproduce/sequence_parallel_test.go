package reproduce

import (
	"math"
	"testing"
)

// TestSequenceParallel runs the experiment and holds each checked number
// to its tolerance; the rest are reported.
func TestSequenceParallel(t *testing.T) {
	out, err := SequenceParallel(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range out.Checks {
		t.Logf("%-60s simulated %10.4g paper %10.4g rel %+.4f", c.What, c.Simulated, c.Paper, c.RelErr())
		if c.Tolerance > 0 && math.Abs(c.RelErr()) > c.Tolerance {
			t.Errorf("%s: simulated %.4g, paper %.4g: off by %.2f%%, tolerance %.2f%%", c.What, c.Simulated, c.Paper, 100*c.RelErr(), 100*c.Tolerance)
		}
	}
	for _, f := range []string{"ring-block-size.csv", "striped.csv", "tree-vs-ring-decode.csv", "ulysses.csv", "summary.md", "striped.svg", "ring-exposed.svg", "ulysses.svg"} {
		if len(out.Files[f]) == 0 {
			t.Errorf("%s not written", f)
		}
	}
}

// BenchmarkSequenceParallel is the whole reproduction (every schedule,
// the block-size bisections and the striped fit).
func BenchmarkSequenceParallel(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := SequenceParallel(nil); err != nil {
			b.Fatal(err)
		}
	}
}
