package review

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fusemax/fusemax/specs"
)

// Review is a design review: designs, the baseline the others are
// measured against, and the shapes every design is evaluated on.
type Review struct {
	File     string    `json:"file,omitempty"`
	Title    string    `json:"title"`
	Profile  string    `json:"energy_profile"`
	Baseline string    `json:"baseline"` // a design's label
	Designs  []*Design `json:"designs"`
	Cases    []Case    `json:"cases"`
}

// maxFileBytes bounds a review file before it is parsed.
const maxFileBytes = 1 << 20

// LoadReview reads a review file. Relative spec and kernel paths in it
// (names ending .yaml or .einsum) are taken from the file's directory.
func LoadReview(path string) (*Review, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes is more than a review file may hold (%d)", path, st.Size(), maxFileBytes)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseReview(path, src)
}

// ParseReview is LoadReview for text already read.
//
//	title: FuseMax vs FLAT
//	energy_profile: fusemax-micro24
//	baseline: flat
//	designs:
//	  - {label: flat, config: fusemax-micro24/flat}
//	  - {label: big, kernel: attention_1pass, arch: fusemax-cloud, mapping: fusemax-binding, set: [arch.arrays.2d.rows=512]}
//	workloads: [BERT, XLM]
//	seq: 1K..1M*4
//	shapes: [B=1,H=32,E=128,F=128,M=8192,P=8192]
func ParseReview(file string, src []byte) (*Review, error) {
	d, err := specs.Parse(file, src)
	if err != nil {
		return nil, err
	}
	var errs specs.Errors
	o := d.Obj(d.Root, "review", &errs)
	r := &Review{File: file, Title: o.Str("title", false), Profile: o.Str("energy_profile", false), Baseline: o.Str("baseline", false)}
	dn := o.Need("designs")
	r.Designs = readDesigns(d, dn, filepath.Dir(file), &errs)
	cases, cerr := readCases(o)
	if cerr != nil {
		errs = append(errs, cerr)
	}
	o.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	r.Cases = cases
	if r.Title == "" {
		r.Title = "Design review: " + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if err := r.check(); err != nil {
		return nil, d.Errorf(d.Root, "%v", err)
	}
	return r, nil
}

func readDesigns(d *specs.Doc, n *yaml.Node, dir string, errs *specs.Errors) []*Design {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		*errs = append(*errs, d.Errorf(n, "designs must be a non-empty list of designs"))
		return nil
	}
	var out []*Design
	for i, e := range n.Content {
		o := d.Obj(e, fmt.Sprintf("designs[%d]", i), errs)
		ds := &Design{Label: o.Str("label", true), Config: o.Str("config", false), Kernel: local(dir, o.Str("kernel", false)),
			Cascade: o.Str("cascade", false), Arch: local(dir, o.Str("arch", false)), Mapping: local(dir, o.Str("mapping", false)),
			Set: o.StrList("set"), Dtype: o.Str("dtype", false)}
		if ds.Config != "" {
			ds.Config = local(dir, ds.Config)
		}
		o.Done()
		out = append(out, ds)
	}
	return out
}

// local resolves a spec file named relative to the review file; built-in
// names pass through.
func local(dir, ref string) string {
	if ref == "" || filepath.IsAbs(ref) || !(strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml") || strings.HasSuffix(ref, ".einsum")) {
		return ref
	}
	return filepath.Join(dir, ref)
}

// readCases reads workloads × seq and explicit shapes.
func readCases(o *specs.Obj) ([]Case, *specs.Error) {
	models := o.StrList("workloads")
	shapes, serr := shapeList(o)
	if serr != nil {
		return nil, serr
	}
	seqNode := o.Get("seq")
	var seqs []int64
	if seqNode != nil {
		text := seqNode.Value
		if seqNode.Kind == yaml.SequenceNode {
			var parts []string
			for _, e := range seqNode.Content {
				parts = append(parts, e.Value)
			}
			text = strings.Join(parts, ",")
		}
		var err error
		if seqs, err = ParseLengths(text); err != nil {
			return nil, o.Doc.Errorf(seqNode, "seq: %v", err)
		}
	}
	if len(models) > 0 && len(seqs) == 0 {
		return nil, o.Doc.Errorf(o.KeyNode("workloads"), "workloads need seq: the sequence lengths to run them at")
	}
	cases, err := Cases(models, seqs, shapes)
	if err != nil {
		return nil, o.Doc.Errorf(o.Node, "%v", err)
	}
	return cases, nil
}

// shapeList reads shapes: a list whose items are "B=1,H=32,..." strings
// or {B: 1, H: 32, ...} mappings.
func shapeList(o *specs.Obj) ([]string, *specs.Error) {
	n := o.Get("shapes")
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, o.Doc.Errorf(n, "shapes must be a list of shapes, each \"B=1,H=32,...\" (quoted) or {B: 1, H: 32, ...}")
	}
	var out []string
	for _, e := range n.Content {
		switch e.Kind {
		case yaml.ScalarNode:
			if !strings.Contains(e.Value, ",") && len(n.Content) > 1 {
				return nil, o.Doc.Errorf(e, "shape %q names one size: quote each shape (\"B=1,H=32,...\") or write it as {B: 1, H: 32, ...}", e.Value)
			}
			out = append(out, e.Value)
		case yaml.MappingNode:
			var parts []string
			for i := 0; i+1 < len(e.Content); i += 2 {
				parts = append(parts, e.Content[i].Value+"="+e.Content[i+1].Value)
			}
			out = append(out, strings.Join(parts, ","))
		default:
			return nil, o.Doc.Errorf(e, "a shape is \"B=1,H=32,...\" or {B: 1, H: 32, ...}")
		}
	}
	return out, nil
}

// check validates what spans the file: labels, the baseline, the profile
// and the review's size.
func (r *Review) check() error {
	if err := checkLabels(r.Designs); err != nil {
		return err
	}
	if r.Profile == "" {
		r.Profile = DefaultProfile
	}
	if !slices.Contains(Profiles(), r.Profile) {
		return fmt.Errorf("energy_profile must be one of %s, not %q", strings.Join(Profiles(), ", "), r.Profile)
	}
	if r.Baseline == "" {
		r.Baseline = r.Designs[0].Label
	}
	if r.design(r.Baseline) == nil {
		var labels []string
		for _, d := range r.Designs {
			labels = append(labels, d.Label)
		}
		return fmt.Errorf("baseline %q is not a design's label (labels: %s)", r.Baseline, strings.Join(labels, ", "))
	}
	if n := len(r.Designs) * len(r.Cases); n > maxCases*10 {
		return fmt.Errorf("%d designs × %d shapes is more than %d points; split the review or use fusemax sweep", len(r.Designs), len(r.Cases), maxCases*10)
	}
	return nil
}

func (r *Review) design(label string) *Design {
	for _, d := range r.Designs {
		if d.Label == label {
			return d
		}
	}
	return nil
}
