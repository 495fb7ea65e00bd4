package golden

import (
	"fmt"
	"path/filepath"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/tensor"
)

// Seed is the seed of every golden input.
const Seed = 1

// Case is one kernel at one shape.
type Case struct {
	Kernel string
	Shape  map[string]int64
}

// Dir is the case's folder relative to the golden root.
func (c Case) Dir() string { return filepath.Join(c.Kernel, einsum.FormatShape(c.Shape)) }

// Cases lists every golden case: small shapes that still exercise several
// tiles (M1 > 1), non-square heads (E ≠ F) and sizes that are not powers of
// two.
func Cases() []Case {
	attention := []map[string]int64{
		{"E": 4, "F": 3, "M": 12, "M0": 4, "P": 5},
		{"E": 8, "F": 8, "M": 32, "M0": 8, "P": 16},
	}
	var out []Case
	for _, k := range []string{"attention_1pass", "attention_2pass"} {
		for _, s := range attention {
			out = append(out, Case{k, s})
		}
	}
	for _, s := range attention {
		out = append(out, Case{"attention_3pass", map[string]int64{"E": s["E"], "F": s["F"], "M": s["M"], "P": s["P"]}})
	}
	for _, k := range []string{"toy_cascade1", "toy_cascade2", "toy_cascade3"} {
		out = append(out, Case{k, map[string]int64{"K": 7}}, Case{k, map[string]int64{"K": 32}})
	}
	out = append(out,
		Case{"gemm", map[string]int64{"K": 8, "M": 5, "N": 6}},
		Case{"gemm", map[string]int64{"K": 33, "M": 17, "N": 9}})
	return append(out, libraryCases()...)
}

// Compute evaluates a case: seeded inputs and float64 outputs, keyed by
// tensor name, with the names in declaration order (inputs, then outputs).
func Compute(c Case) (names []string, tensors map[string]*tensor.Dense, err error) {
	prog, err := kernels.Load(c.Kernel)
	if err != nil {
		return nil, nil, err
	}
	cascade := prog.Cascades[0]
	sizes, _, err := cascade.Bind(c.Shape)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", c.Dir(), err)
	}
	inputs, err := interp.RandomInputs(cascade, sizes, Seed)
	if err != nil {
		return nil, nil, err
	}
	all, err := interp.Run(cascade, sizes, inputs, interp.Options{DType: tensor.F64})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", c.Dir(), err)
	}
	for _, t := range cascade.Inputs {
		names = append(names, t.Name)
	}
	for _, t := range cascade.Outputs {
		names = append(names, t.Name)
	}
	return names, all, nil
}

// Generate writes every case under root.
func Generate(root string) error {
	for _, c := range Cases() {
		names, tensors, err := Compute(c)
		if err != nil {
			return err
		}
		if err := tensor.WriteDir(filepath.Join(root, c.Dir()), names, tensors, tensor.F64); err != nil {
			return err
		}
	}
	return nil
}

// Load reads a case's tensors from root.
func Load(root string, c Case) (map[string]*tensor.Dense, error) {
	names, _, err := caseNames(c)
	if err != nil {
		return nil, err
	}
	out := map[string]*tensor.Dense{}
	for _, n := range names {
		t, err := tensor.LoadNPY(filepath.Join(root, c.Dir(), n+".npy"))
		if err != nil {
			return nil, err
		}
		out[n] = t
	}
	return out, nil
}

func caseNames(c Case) (inputs, outputs []string, err error) {
	prog, err := kernels.Load(c.Kernel)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range prog.Cascades[0].Inputs {
		inputs = append(inputs, t.Name)
	}
	for _, t := range prog.Cascades[0].Outputs {
		outputs = append(outputs, t.Name)
	}
	return append(inputs, outputs...), outputs, nil
}
