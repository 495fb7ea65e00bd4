package review

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/workload"
)

// Design is one candidate: a cascade on an architecture under a mapping,
// with spec overrides. Config names a shipped or file configuration that
// supplies whichever of Kernel, Arch and Mapping are empty. An empty
// Mapping (without a configuration that names one) means: every shipped
// mapping written for the kernel is tried and the least energy×delay wins.
type Design struct {
	Label   string   `json:"label"`
	Config  string   `json:"config,omitempty"`
	Kernel  string   `json:"kernel,omitempty"`
	Cascade string   `json:"cascade,omitempty"`
	Arch    string   `json:"arch,omitempty"`
	Mapping string   `json:"mapping,omitempty"`
	Set     []string `json:"set,omitempty"`   // arch.PATH=VALUE or mapping.PATH=VALUE
	Dtype   string   `json:"dtype,omitempty"` // GPU specs only: fp16 (default), bf16, fp8, tf32
}

// Case is one shape a review evaluates every design on.
type Case struct {
	Name     string           `json:"name"`     // "BERT 64K", or the shape as written
	Workload string           `json:"workload"` // the model, or "" for an explicit shape
	Family   string           `json:"family"`   // the shape without its sequence ranks: what a chart's series share
	Seq      int64            `json:"seq"`      // M (= P for a workload); 0 when the shape has no M
	Shape    map[string]int64 `json:"shape"`
}

// Metrics is what one (design, case) point measured.
type Metrics struct {
	Kernel          string             `json:"kernel"`
	Arch            string             `json:"arch"`
	Mapping         string             `json:"mapping"`
	MappingNote     string             `json:"mapping_note,omitempty"`    // variant, search choice, how the mapping was chosen
	Derived         bool               `json:"mapping_derived,omitempty"` // no mapping named: derived, as simulate does
	Shape           map[string]int64   `json:"shape"`                     // every size the lowering used
	Passes          int                `json:"passes"`
	LatencyS        float64            `json:"latency_s"`
	Cycles          float64            `json:"cycles"`
	EnergyPJ        float64            `json:"energy_pj"`
	TrafficBytes    float64            `json:"traffic_bytes"`
	AreaMM2         float64            `json:"area_mm2"`
	Utilization     map[string]float64 `json:"utilization"` // every compute array and memory channel
	Bound           string             `json:"bound"`       // the busiest unit
	BufferPeakBytes map[string]float64 `json:"buffer_peak_bytes"`
	EnergyParts     map[string]float64 `json:"energy_parts_pj"` // by component: arrays and memory levels
	// Roofline placement, in PE operations (busy PE-cycles): the work done,
	// the machine's peak rate, and the off-chip bandwidth.
	WorkOps     float64 `json:"work_pe_ops"`
	PeakOpsS    float64 `json:"peak_pe_ops_per_s"`
	BandwidthBS float64 `json:"offchip_bytes_per_s"`
}

// BufferPeak is the largest on-chip buffer peak.
func (m *Metrics) BufferPeak() float64 {
	p := 0.0
	for _, v := range m.BufferPeakBytes {
		p = max(p, v)
	}
	return p
}

// Intensity is the roofline's operational intensity, PE operations per
// off-chip byte (+Inf without traffic).
func (m *Metrics) Intensity() float64 { return m.WorkOps / m.TrafficBytes }

// Attained is the achieved rate in PE operations per second.
func (m *Metrics) Attained() float64 { return m.WorkOps / m.LatencyS }

// maxCases bounds the shapes one review or sweep expands to, before any
// work proportional to them.
const maxCases = 10000

// WorkloadCases is every model × sequence length, models outer.
func WorkloadCases(models []string, seqs []int64) ([]Case, error) {
	if len(models)*len(seqs) > maxCases {
		return nil, fmt.Errorf("%d workloads × %d lengths is more than %d shapes", len(models), len(seqs), maxCases)
	}
	var out []Case
	for _, name := range models {
		m, err := workload.Lookup(name)
		if err != nil {
			return nil, err
		}
		for _, n := range seqs {
			out = append(out, Case{Name: m.Name + " " + workload.FormatLength(n), Workload: m.Name, Family: m.Name, Seq: n, Shape: m.Shape(n)})
		}
	}
	return out, nil
}

// ShapeCase is an explicit shape; with seq > 0 it sets M = P = seq.
func ShapeCase(shape map[string]int64, seq int64) Case {
	s := maps.Clone(shape)
	if seq > 0 {
		s["M"], s["P"] = seq, seq
	}
	fam := maps.Clone(s)
	delete(fam, "M")
	delete(fam, "P")
	c := Case{Name: workload.FormatShape(s), Family: workload.FormatShape(fam), Seq: s["M"], Shape: s}
	if seq > 0 {
		c.Name = c.Family + " @" + workload.FormatLength(seq)
		if c.Family == "" {
			c.Name = "seq " + workload.FormatLength(seq)
		}
	}
	return c
}

// checkLabels reports a design without a label or a label used twice.
func checkLabels(ds []*Design) error {
	seen := map[string]bool{}
	for i, d := range ds {
		if strings.TrimSpace(d.Label) == "" {
			return fmt.Errorf("design %d has no label", i+1)
		}
		if seen[d.Label] {
			return fmt.Errorf("design label %q is used twice; labels name the rows, so each must be unique", d.Label)
		}
		seen[d.Label] = true
	}
	return nil
}

// DesignsFromFlags is the designs of `compare K1 K2 --arch A,B`: every
// kernel on every arch (or every configuration named), labelled by what
// tells them apart.
func DesignsFromFlags(kernelRefs, configs, archs []string, mapping string, sets []string) ([]*Design, error) {
	var out []*Design
	for _, c := range configs {
		out = append(out, &Design{Label: configLabel(c, configs), Config: c, Set: slices.Clone(sets)})
	}
	if len(kernelRefs) > 0 && len(archs) == 0 {
		return nil, fmt.Errorf("name the architectures the kernels run on (--arch A,B)")
	}
	for _, k := range kernelRefs {
		for _, a := range archs {
			out = append(out, &Design{Label: k + " @ " + a, Kernel: k, Arch: a, Mapping: mapping, Set: slices.Clone(sets)})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("name the designs: kernels with --arch, or --config NAME,... (shipped: %s)", strings.Join(Configs(), ", "))
	}
	return out, checkLabels(out)
}

// Flags is a review given on the command line instead of in a file.
type Flags struct {
	Title     string
	Kernels   []string // kernel names or files, each run on every Arch
	Configs   []string
	Archs     []string
	Mapping   string
	Set       []string
	Workloads []string
	Seq       string // a list or range, e.g. 1K,64K,1M or 1K..1M*4
	Shapes    []string
	Baseline  string
	Profile   string
}

// FromFlags builds the review the flags describe.
func FromFlags(f Flags) (*Review, error) {
	ds, err := DesignsFromFlags(f.Kernels, f.Configs, f.Archs, f.Mapping, f.Set)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	if f.Seq != "" {
		if seqs, err = ParseLengths(f.Seq); err != nil {
			return nil, fmt.Errorf("--seq: %v", err)
		}
	}
	if len(f.Workloads) > 0 && len(seqs) == 0 {
		return nil, fmt.Errorf("--workload needs --seq: the sequence lengths to run it at")
	}
	cases, err := Cases(f.Workloads, seqs, f.Shapes)
	if err != nil {
		return nil, err
	}
	r := &Review{Title: f.Title, Profile: f.Profile, Baseline: f.Baseline, Designs: ds, Cases: cases}
	if r.Title == "" {
		r.Title = "Design review"
	}
	return r, r.check()
}

// Cases is every model × length, then every shape (at each length when no
// model is named: M = P = length).
func Cases(models []string, seqs []int64, shapes []string) ([]Case, error) {
	cases, err := WorkloadCases(models, seqs)
	if err != nil {
		return nil, err
	}
	for _, s := range shapes {
		sh, err := workload.ParseShape(s)
		if err != nil {
			return nil, fmt.Errorf("shape %q: %v", s, err)
		}
		if len(models) > 0 || len(seqs) == 0 {
			cases = append(cases, ShapeCase(sh, 0))
			continue
		}
		for _, n := range seqs {
			cases = append(cases, ShapeCase(sh, n))
		}
		if len(cases) > maxCases {
			return nil, fmt.Errorf("more than %d shapes", maxCases)
		}
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("name the shapes: workloads with sequence lengths, or shapes NAME=SIZE,...")
	}
	return cases, nil
}

// configLabel is a configuration's last path element (binding for
// fusemax-micro24/binding) when no other configuration named shares it.
func configLabel(c string, all []string) string {
	short := strings.TrimSuffix(path.Base(c), path.Ext(c))
	for _, o := range all {
		if o != c && strings.TrimSuffix(path.Base(o), path.Ext(o)) == short {
			return c
		}
	}
	return short
}
