package review

import (
	"testing"
)

// BenchmarkEvaluate is one design point of each of the FuseMax paper's
// five configurations per iteration (BERT at 64K): the sweep throughput
// target is at least 500 points per second per core.
func BenchmarkEvaluate(b *testing.B) {
	e := NewEvaluator()
	cases, err := WorkloadCases([]string{"BERT"}, []int64{1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	var ds []*Design
	for _, c := range []string{"unfused", "flat", "cascade", "arch", "binding"} {
		ds = append(ds, &Design{Label: c, Config: "fusemax-micro24/" + c})
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, d := range ds {
			if _, err := e.Evaluate(d, cases[0].Shape, DefaultProfile); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
}
