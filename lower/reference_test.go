package lower

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/internal/reference"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/workload"
)

func referenceDir(t testing.TB) string { return reference.FuseMaxResults(t) }

func readCSV(t testing.TB, path string) (header []string, rows [][]string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return all[0], all[1:]
}

type refConfig struct{ name, config, file string }

var refConfigs = []refConfig{
	{"binding", "fusemax-micro24/binding", "attn-binding.csv"},
	{"flat", "fusemax-micro24/flat", "attn-flat.csv"},
	{"cascade", "fusemax-micro24/cascade", "attn-cascade.csv"},
	{"arch", "fusemax-micro24/arch", "attn-arch.csv"},
}

// loadRef loads a configuration with the arch overrides of the artifact's
// accounting profile.
func loadRef(t testing.TB, cfg refConfig) (*Config, *einsum.Cascade, *arch.Spec) {
	t.Helper()
	conf, err := LoadConfig(cfg.config)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := kernels.Load(conf.Kernel)
	if err != nil {
		t.Fatal(err)
	}
	a, err := arch.Load(conf.Arch, conf.ArchSets(ProfileFuseMaxMicro24))
	if err != nil {
		t.Fatal(err)
	}
	return conf, prog.Cascades[0], a
}

// TestReferenceCSVs runs every (model, length) row of the artifact's
// binding and FLAT results through the simulator and compares every column.
func TestReferenceCSVs(t *testing.T) {
	dir := referenceDir(t)
	worst := map[string]float64{}
	for _, cfg := range refConfigs {
		header, rows := readCSV(t, filepath.Join(dir, cfg.file))
		conf, c, a := loadRef(t, cfg)
		for _, row := range rows {
			model, err := workload.Lookup(row[0])
			if err != nil {
				t.Fatal(err)
			}
			seq, err := workload.ParseLength(row[1])
			if err != nil {
				t.Fatal(err)
			}
			shape := model.Shape(seq)
			m, err := LoadMapping(conf.Mapping, shape, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Simulate(c, a, m, shape, Options{EnergyProfile: ProfileFuseMaxMicro24}, sim.Options{})
			if err != nil {
				t.Fatalf("%s %s %s: %v", cfg.name, row[0], row[1], err)
			}
			got := columns(rep)
			for i, col := range header[2:] {
				want, err := strconv.ParseFloat(row[i+2], 64)
				if err != nil {
					t.Fatalf("%s: %v", cfg.file, err)
				}
				g, ok := got[col]
				if !ok {
					t.Fatalf("%s: no simulated value for column %s", cfg.file, col)
				}
				rel := math.Abs(g-want) / math.Abs(want)
				tol := 0.005
				if col == "energy" {
					// Every row, MODEL.md §9.6's included: the wrapped
					// partition sizes (nest.partitionWrap) close them.
					tol = 0.001
				}
				key := cfg.name + "/" + col
				worst[key] = math.Max(worst[key], rel)
				if rel > tol {
					t.Errorf("%s %s %s: %s = %.8g, reference %.8g (%.3g%% off, tolerance %.2g%%)", cfg.name, row[0], row[1], col, g, want, 100*rel, 100*tol)
				}
			}
		}
	}
	for _, k := range sortedKeys(worst) {
		t.Logf("worst relative error %-16s %.3g", k, worst[k])
	}
}

// columns names a report's numbers the way the artifact's CSVs do.
func columns(r *Report) map[string]float64 {
	c := map[string]float64{
		"traffic": r.TrafficBytes, "latency": r.LatencyS, "energy": r.EnergyPJ,
		"util_2d": r.Utilization["2d"], "util_1d": r.Utilization["1d"],
	}
	for k, v := range r.EinsumActivity {
		c[k] = v
	}
	return c
}

func ExampleSimulate() {
	prog, _ := kernels.Load("attention_1pass")
	a, _ := arch.Load("fusemax-cloud", nil)
	bert, _ := workload.Lookup("BERT")
	shape := bert.Shape(64 << 10)
	m, _ := LoadMapping("fusemax-binding", shape, nil)
	r, err := Simulate(prog.Cascades[0], a, m, shape, Options{}, sim.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("P1=%d latency=%.4f s traffic=%.4g B 2D utilization=%.3f\n", r.Derived["P1"], r.LatencyS, r.TrafficBytes, r.Utilization["2d"])
	// Output: P1=128 latency=7.4025 s traffic=3.865e+10 B 2D utilization=0.991
}
