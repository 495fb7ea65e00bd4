package reproduce

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fusemax/fusemax/internal/reference"
)

func referenceDir(t testing.TB) string { return reference.FuseMaxResults(t) }

// referenceOutput reads the artifact's CSVs as a reproduction's output of
// the shipped experiment.
func referenceOutput(t testing.TB) (*Experiment, *Output) {
	t.Helper()
	x, err := LoadExperiment("fusemax-micro24")
	if err != nil {
		t.Fatal(err)
	}
	out, err := ReadOutput(x, referenceDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return x, out
}

func loadReference(t testing.TB, x *Experiment) map[string]*Table {
	out, err := ReadOutput(x, referenceDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for f, msg := range out.Failed {
		t.Fatalf("%s: %s", f, msg)
	}
	return out.Tables
}

// replay answers attention points with the reference CSVs' rows, so that
// the driver's bookkeeping and formatting can be checked byte for byte
// against the artifact without a simulator. Test-only.
type replay struct {
	x     *Experiment
	ref   map[string]*Table
	calls atomic.Int64
}

func (r *replay) Evaluate(p Point) (*Result, error) {
	r.calls.Add(1)
	for _, c := range r.x.Attention {
		if c.Config != p.Config {
			continue
		}
		for _, w := range r.x.Workloads {
			for _, s := range r.x.Seqs {
				if fmtShape(w.Shape(s.N)) != fmtShape(p.Shape) {
					continue
				}
				t := r.ref[c.CSV]
				row := t.Find(w.Name, s.Label)
				res := &Result{Utilization: map[string]float64{}, Activity: map[string]float64{}}
				res.TrafficBytes, res.LatencyS, res.EnergyPJ = row.Vals[0], row.Vals[1], row.Vals[2]
				for i, u := range r.x.Units {
					res.Utilization[u] = row.Vals[3+i]
				}
				for i, e := range c.Columns {
					res.Activity[e] = row.Vals[3+len(r.x.Units)+i]
				}
				return res, nil
			}
		}
	}
	// GEMMs and the sweep: a simple deterministic model, enough to check
	// sums and the buffer-doubling loop.
	if m, ok := p.Shape["M"]; ok && p.Shape["K"] > 0 {
		macs := float64(m * p.Shape["K"] * p.Shape["N"])
		return &Result{LatencyS: macs / 65536 / 940e6, TrafficBytes: 2 * float64(m*p.Shape["K"]+p.Shape["K"]*p.Shape["N"]+m*p.Shape["N"]), EnergyPJ: macs * 17}, nil
	}
	return nil, fmt.Errorf("replay: no reference row for %s", describe(p))
}

func TestRunReplayMatchesReferenceBytes(t *testing.T) {
	x, err := LoadExperiment("fusemax-micro24")
	if err != nil {
		t.Fatal(err)
	}
	x.Pareto = nil
	ref := loadReference(t, x)
	ev := &replay{x: x, ref: ref}
	var last int
	out, err := Run(x, ev, Options{Workers: 3, Progress: func(done, total int) { last = done }})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Failed) != 0 {
		t.Fatalf("failed: %v", out.Failed)
	}
	if last == 0 {
		t.Error("progress was never reported")
	}
	dir := referenceDir(t)
	for _, c := range x.Attention {
		want, err := os.ReadFile(filepath.Join(dir, c.CSV))
		if err != nil {
			t.Fatal(err)
		}
		got := out.Tables[c.CSV].Bytes()
		if !bytes.Equal(got, want) {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Errorf("%s line %d:\n got %s\nwant %s", c.CSV, i+1, gl[i], wl[i])
					break
				}
			}
		}
	}
	// Layers K and V repeat Q's shape, and some of the binding and flat
	// points are also evaluated under the physical profile: every distinct
	// point is evaluated once.
	if int(ev.calls.Load()) != out.Points {
		t.Errorf("%d evaluations for %d distinct points", ev.calls.Load(), out.Points)
	}
	e2e := out.Tables["end2end-flat.csv"]
	if v, _ := e2e.Get("latency", "BERT", "1K"); v <= 0 {
		t.Errorf("end-to-end latency %v", v)
	}
}

func TestRunReportsFailures(t *testing.T) {
	x, err := LoadExperiment("fusemax-micro24")
	if err != nil {
		t.Fatal(err)
	}
	ev := EvaluatorFunc(func(p Point) (*Result, error) {
		if strings.HasSuffix(p.Config, "/unfused") {
			return nil, fmt.Errorf("no mapping yet")
		}
		return &Result{LatencyS: 1, MemoryS: 0.5, Utilization: map[string]float64{"2d": 0.5, "1d": 1}, Activity: map[string]float64{"QK": 0.1, "AV": 0.1, "LM": 0, "SLN": 0, "SLD": 0, "SLNV": 0.1}}, nil
	})
	out, err := Run(x, ev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if msg := out.Failed["attn-unfused.csv"]; !strings.Contains(msg, "no mapping yet") || !strings.Contains(msg, "fusemax-micro24/unfused at B=64") {
		t.Errorf("failure message %q", msg)
	}
	if _, ok := out.Tables["attn-binding.csv"]; !ok {
		t.Error("a failing configuration stopped the others")
	}
	if got := len(out.Tables["pareto.csv"].Rows); got != 24 {
		t.Errorf("pareto rows = %d", got)
	}
}

func TestParetoDoublesBuffer(t *testing.T) {
	x, err := LoadExperiment("fusemax-micro24")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	ev := EvaluatorFunc(func(p Point) (*Result, error) {
		var capacity string
		for _, s := range p.ArchSet {
			if v, ok := strings.CutPrefix(s, "memory.L3.capacity="); ok {
				capacity = v
			}
		}
		if p.Shape["E"] == 64 && strings.Contains(strings.Join(p.ArchSet, " "), "arrays.2d.rows=256") {
			seen = append(seen, capacity)
		}
		// memory bound until the buffer reaches 1 MiB
		mem := 2.0
		if capacity == "1.048576e+06 B" {
			mem = 0.5
		}
		return &Result{LatencyS: 2, MemoryS: mem, Utilization: map[string]float64{"2d": 0.5, "1d": 0.5}, AreaUM2: 3, AreaParts: map[string]float64{"2d/pe": 2}}, nil
	})
	out, err := Run(x, ev, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := "[262144 B 524288 B 1.048576e+06 B]"
	if fmt.Sprint(seen[:3]) != want {
		t.Errorf("buffer sizes tried = %v, want %s", seen, want)
	}
	if v, _ := out.Tables["pareto.csv"].Get("array_2d_area", "proposal", "BERT", "256"); v != 2 {
		t.Errorf("array_2d_area = %v", v)
	}
}
