package reproduce

import (
	"fmt"
	"math"

	"go.yaml.in/yaml/v3"

	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/specs"
	"github.com/fusemax/fusemax/workload"
)

// Experiment is a reproduction spec (specs/experiments/NAME.yaml).
type Experiment struct {
	Name         string
	File         string
	Profile      string // default energy profile
	Workloads    []Workload
	Seqs         []Seq
	Units        []string // compute units whose utilization the CSVs report
	Attention    []AttnConfig
	Layers       []Layer
	Platforms    []Platform
	HeadlineSpec HeadlineSpec
	Pareto       *Pareto
}

// Workload is a built-in model (package workload).
type Workload = workload.Model

// Seq is a sequence length and its label in the CSVs ("64K").
type Seq struct {
	Label string
	N     int64
}

// Binding is name = expression, in file order.
type Binding struct {
	Name, Expr string
}

// AttnConfig is one attention configuration and its CSV.
type AttnConfig struct {
	Name, Label, Config, CSV string
	Columns                  []string // per-Einsum activity columns
	End2End                  string   // the platform whose GEMMs complete it end to end
}

// Layer is one non-attention GEMM of a transformer block.
type Layer struct {
	Name  string
	Shape []Binding
}

// Platform evaluates the layers with one GEMM configuration.
type Platform struct {
	Name, Config, CSV string
}

// HeadlineSpec names the configurations the summary compares.
type HeadlineSpec struct {
	Baseline, Proposal, NormaliseTo string
	// Notes are paragraphs summary.md adds under the headline: what is
	// known about the gap to the published numbers.
	Notes []string
	// Paper is what the publication reports for the headline, when the
	// experiment reproduces one; summary.md sets it beside the computed
	// numbers.
	Paper *PaperHeadline
}

// PaperHeadline is a publication's headline numbers (NaN where it gives
// none) and where they are stated.
type PaperHeadline struct {
	AttnSpeedup, AttnEnergy, E2ESpeedup, E2EEnergy float64
	Source                                         string
}

// Pareto is the PE-array sweep.
type Pareto struct {
	CSV, Accel, Config string
	Seq                Seq
	PEDims             []int64
	Vars               []Binding
	Set                []Binding // arch path = expression [unit]
	Double, While      string
	Stop               string
	L3Area             [][2]float64 // (bytes, um2), increasing
}

// LoadExperiment reads the reproduction spec of an experiment by name (the
// embedded specs/experiments/NAME.yaml) or by file path.
func LoadExperiment(ref string) (*Experiment, error) {
	file, src, err := specs.Read("experiments", ref)
	if err != nil {
		return nil, fmt.Errorf("no experiment %q: %v", ref, err)
	}
	return ParseExperiment(file, src)
}

// ParseExperiment is LoadExperiment for text already read.
func ParseExperiment(file string, src []byte) (*Experiment, error) {
	d, err := specs.Parse(file, src)
	if err != nil {
		return nil, err
	}
	var errs specs.Errors
	o := d.Obj(d.Root, "experiment", &errs)
	x := &Experiment{File: file}
	x.Name = o.Str("experiment", true)
	x.Profile = o.Str("energy_profile", false)
	if x.Profile == "" {
		x.Profile = lower.ProfilePhysical
	} else if _, err := lower.LoadProfile(x.Profile); err != nil {
		o.Failf(o.Get("energy_profile"), "experiment.energy_profile: %v", err)
	}
	for _, name := range o.StrList("workloads") {
		m, err := workload.Lookup(name)
		if err != nil {
			o.Failf(o.Get("workloads"), "experiment.workloads: %v", err)
		}
		x.Workloads = append(x.Workloads, m)
	}
	for _, s := range o.StrList("seq") {
		n, err := workload.ParseLength(s)
		if err != nil {
			o.Failf(o.Get("seq"), "experiment.seq: %v", err)
		}
		x.Seqs = append(x.Seqs, Seq{Label: s, N: n})
	}
	x.Units = o.StrList("units")

	a := o.Sub("attention", true)
	for i, n := range list(d, a.Need("configs"), "attention.configs", &errs) {
		c := d.Obj(n, fmt.Sprintf("attention.configs[%d]", i), &errs)
		ac := AttnConfig{Name: c.Str("name", true), Label: c.Str("label", true), Config: c.Str("config", true),
			CSV: c.Str("csv", true), Columns: c.StrList("columns"), End2End: c.Str("end2end", false)}
		if ac.Columns == nil {
			ac.Columns = []string{}
		}
		c.Done()
		x.Attention = append(x.Attention, ac)
	}
	a.Done()

	if e := o.Sub("end2end", false); e.Node != nil {
		for i, n := range list(d, e.Need("layers"), "end2end.layers", &errs) {
			c := d.Obj(n, fmt.Sprintf("end2end.layers[%d]", i), &errs)
			x.Layers = append(x.Layers, Layer{Name: c.Str("name", true), Shape: bindings(c.Sub("shape", true))})
			c.Done()
		}
		for i, n := range list(d, e.Need("platforms"), "end2end.platforms", &errs) {
			c := d.Obj(n, fmt.Sprintf("end2end.platforms[%d]", i), &errs)
			x.Platforms = append(x.Platforms, Platform{Name: c.Str("name", true), Config: c.Str("config", true), CSV: c.Str("csv", true)})
			c.Done()
		}
		e.Done()
	}

	h := o.Sub("headline", true)
	x.HeadlineSpec = HeadlineSpec{Baseline: h.Str("baseline", true), Proposal: h.Str("proposal", true), NormaliseTo: h.Str("normalise_to", true), Notes: h.StrList("notes")}
	if p := h.Sub("paper", false); p.Node != nil {
		num := func(key string) float64 {
			if p.Get(key) == nil {
				return math.NaN()
			}
			return p.Num(key, specs.Count, false, 0)
		}
		x.HeadlineSpec.Paper = &PaperHeadline{AttnSpeedup: num("attention_speedup"), AttnEnergy: num("attention_energy"),
			E2ESpeedup: num("end2end_speedup"), E2EEnergy: num("end2end_energy"), Source: p.Str("source", true)}
		p.Done()
	}
	h.Done()

	if p := o.Sub("pareto", false); p.Node != nil {
		pr := &Pareto{CSV: p.Str("csv", true), Accel: p.Str("accel", true), Config: p.Str("config", true),
			Double: p.Str("double", false), While: p.Str("while", false), Stop: p.Str("stop", false)}
		s := p.Str("seq", true)
		n, err := workload.ParseLength(s)
		if err != nil {
			p.Failf(p.Get("seq"), "pareto.seq: %v", err)
		}
		pr.Seq = Seq{Label: s, N: n}
		for _, v := range p.StrList("pe_dims") {
			n, err := workload.ParseLength(v)
			if err != nil {
				p.Failf(p.Get("pe_dims"), "pareto.pe_dims: %v", err)
			}
			pr.PEDims = append(pr.PEDims, n)
		}
		pr.Vars = bindings(p.Sub("vars", false))
		pr.Set = bindings(p.Sub("set", true))
		for i, n := range list(d, p.Get("l3_area"), "pareto.l3_area", &errs) {
			var pair [2]float64
			if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
				errs = append(errs, d.Errorf(n, "pareto.l3_area[%d] must be [bytes, um2]", i))
				continue
			}
			for j := range pair {
				v, err := specs.ParseQuantity(n.Content[j].Value, specs.Count)
				if err != nil {
					errs = append(errs, d.Errorf(n.Content[j], "pareto.l3_area[%d]: %v", i, err))
				}
				pair[j] = v
			}
			if i > 0 && pair[0] <= pr.L3Area[i-1][0] {
				errs = append(errs, d.Errorf(n, "pareto.l3_area must be in increasing capacity"))
			}
			pr.L3Area = append(pr.L3Area, pair)
		}
		p.Done()
		x.Pareto = pr
	}
	o.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return x, x.check()
}

// check reports references between sections that do not resolve.
func (x *Experiment) check() error {
	names := map[string]bool{}
	plat := map[string]bool{}
	for _, p := range x.Platforms {
		plat[p.Name] = true
	}
	for _, c := range x.Attention {
		names[c.Name] = true
		if c.End2End != "" && !plat[c.End2End] {
			return fmt.Errorf("%s: attention config %s: end2end %q is not one of the end2end platforms", x.File, c.Name, c.End2End)
		}
	}
	for _, h := range []string{x.HeadlineSpec.Baseline, x.HeadlineSpec.Proposal, x.HeadlineSpec.NormaliseTo} {
		if !names[h] {
			return fmt.Errorf("%s: headline names %q, which is not an attention config", x.File, h)
		}
	}
	if len(x.Workloads) == 0 || len(x.Seqs) == 0 {
		return fmt.Errorf("%s: an experiment needs workloads and sequence lengths", x.File)
	}
	return nil
}

func bindings(o *specs.Obj) []Binding {
	var out []Binding
	for _, k := range o.Keys() {
		out = append(out, Binding{Name: k, Expr: o.Str(k, true)})
	}
	o.Done()
	return out
}

func list(d *specs.Doc, n *yaml.Node, what string, errs *specs.Errors) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		*errs = append(*errs, d.Errorf(n, "%s must be a list", what))
		return nil
	}
	return n.Content
}

// Config returns the attention configuration with the given name.
func (x *Experiment) Config(name string) *AttnConfig {
	for i := range x.Attention {
		if x.Attention[i].Name == name {
			return &x.Attention[i]
		}
	}
	return nil
}

// Platform returns the end-to-end platform with the given name.
func (x *Experiment) Platform(name string) *Platform {
	for i := range x.Platforms {
		if x.Platforms[i].Name == name {
			return &x.Platforms[i]
		}
	}
	return nil
}

// vars is a workload's dimensions at a sequence length, plus seq, for
// expressions.
func vars(w Workload, seq int64) map[string]float64 {
	v := map[string]float64{"seq": float64(seq)}
	for k, n := range w.Shape(seq) {
		v[k] = float64(n)
	}
	return v
}

// shape evaluates bindings to whole rank sizes.
func shape(bs []Binding, vars map[string]float64) (map[string]int64, error) {
	out := map[string]int64{}
	for _, b := range bs {
		v, err := eval(b.Expr, vars)
		if err != nil {
			return nil, fmt.Errorf("rank %s: %v", b.Name, err)
		}
		if v < 1 || v != float64(int64(v)) {
			return nil, fmt.Errorf("rank %s = %s = %g is not a positive whole size", b.Name, b.Expr, v)
		}
		out[b.Name] = int64(v)
	}
	return out, nil
}
