package review

import (
	"syscall"
	"testing"
	"time"
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
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		for _, d := range ds {
			if _, err := e.Evaluate(d, cases[0], DefaultProfile); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "points/cpu-s")
}

// cpuTime is the process's user and system CPU time: on a shared,
// noisy machine, points per CPU-second is the per-core throughput that
// wall time hides.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSweep is a whole sweep on one worker: the five configurations
// × 2 global-buffer sizes × 2 1D-array lengths × BERT at 4 lengths (80
// points), through Run (evaluation, table and CSV rows), in points per
// second on one core.
func BenchmarkSweep(b *testing.B) {
	s, err := NewSweep(Flags{Configs: []string{"fusemax-micro24/unfused", "fusemax-micro24/flat", "fusemax-micro24/cascade", "fusemax-micro24/arch", "fusemax-micro24/binding"},
		Set: []string{"arch.memory.L3.capacity=16MiB,32MiB", "arch.arrays.1d.length=256,512"}, Workloads: []string{"BERT"}, Seq: "1K..1M*8"})
	if err != nil {
		b.Fatal(err)
	}
	n, _ := s.Len()
	e := NewEvaluator()
	points := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := s.Run(e, Shard{0, 1}, Options{Workers: 1}); err != nil {
			b.Fatal(err)
		}
		points += n
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(points)/(cpuTime()-cpu0).Seconds(), "points/cpu-s")
}
