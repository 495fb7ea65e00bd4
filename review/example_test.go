package review_test

import (
	"fmt"
	"os"

	"github.com/fusemax/fusemax/review"
)

func ExampleParseList() {
	seq, _ := review.ParseList("1K..1M*4")
	rows, _ := review.ParseList("64,128,256")
	buf, _ := review.ParseList("8MiB..32MiB*2")
	fmt.Println(seq, rows, buf)
	// Output: [1K 4K 16K 64K 256K 1M] [64 128 256] [8MiB 16MiB 32MiB]
}

func ExampleCompare() {
	r, err := review.FromFlags(review.Flags{Configs: []string{"fusemax-micro24/flat", "fusemax-micro24/binding"},
		Workloads: []string{"BERT"}, Seq: "64K", Profile: "fusemax-micro24"})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := review.Compare(r, review.NewEvaluator(), review.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	row := c.Tables[0][1]
	fmt.Printf("%s: %d pass, %.1f× faster than %s, %.2f of its energy\n", row.Design, row.M.Passes, row.Speedup, r.Baseline, row.EnergyRatio)
	// Output: binding: 1 pass, 7.4× faster than flat, 0.75 of its energy
}

func ExampleSweep_Run() {
	s, err := review.NewSweep(review.Flags{Configs: []string{"fusemax-micro24/binding"},
		Set: []string{"arch.arrays.2d.rows=128,256"}, Workloads: []string{"BERT"}, Seq: "16K"})
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := s.Run(review.NewEvaluator(), review.Shard{I: 0, N: 1}, review.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	cols, _ := t.ParetoColumns([]string{"latency", "area"})
	t.WritePareto(os.Stdout, cols, t.Pareto(cols))
	// Output:
	// Pareto front per shape (2 of 2 points; lower is better in each of latency_s, area_mm2)
	// point  design   arch.arrays.2d.rows  workload  seq    shape                                             latency_s     area_mm2
	// 0      binding  128                  BERT      16384  B=64,D=768,E=64,F=64,H=12,M=16384,P=16384,S=3072  0.9270049164  698.9884769
	// 1      binding  256                  BERT      16384  B=64,D=768,E=64,F=64,H=12,M=16384,P=16384,S=3072  0.465185312   1302.977737
}
