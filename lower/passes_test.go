package lower

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every pass's printer, against golden text for the binding of Cascade 5
// (make golden rewrites testdata/binding.<pass>); the schedule pass is
// FormatPlan, whose golden text TestPrintScheduleGolden checks.
func TestPassPrintersGolden(t *testing.T) {
	plan, err := binding1K.lower(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pass := range Passes() {
		text, err := FormatPass(plan, pass)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := FormatPass(plan, pass); again != text {
			t.Errorf("%s: two printings differ", pass)
		}
		if pass == "schedule" {
			if text != FormatPlan(plan) {
				t.Error("the schedule pass does not print FormatPlan")
			}
			continue
		}
		checkGolden(t, filepath.Join("testdata", "binding."+pass), text)
	}
	if _, err := FormatPass(plan, "frob"); err == nil || !strings.Contains(err.Error(), "bind, tile, place, count, schedule") {
		t.Errorf("an unknown pass: %v", err)
	}
}

// point is a design point of the pass tests: a kernel on an arch under a
// mapping, with overrides of each.
type point struct {
	kernel, arch, mapping string
	shape                 map[string]int64
	archSet, mapSet       []string
}

var attn1K = map[string]int64{"B": 1, "H": 2, "E": 64, "F": 64, "M": 1024, "P": 1024}

// The design points of the pass tests, at attn1K.
var (
	binding1K = point{kernel: "attention_1pass", arch: "fusemax-cloud", mapping: "fusemax-binding", shape: attn1K}
	arch1K    = point{kernel: "attention_1pass", arch: "fusemax-cloud", mapping: "fusemax-arch", shape: attn1K}
	cascade1K = point{kernel: "attention_1pass", arch: "flat-cloud", mapping: "fusemax-cascade", shape: attn1K}
	flat1K    = point{kernel: "attention_3pass", arch: "flat-cloud", mapping: "flat", shape: attn1K}
	unfused1K = point{kernel: "attention_3pass", arch: "flat-cloud", mapping: "unfused", shape: attn1K}
)

func (pt point) lower(t *testing.T, opt Options) (*Plan, error) {
	t.Helper()
	c, a := load(t, pt.kernel, pt.arch, pt.archSet...)
	m, err := LoadMapping(pt.mapping, pt.shape, pt.mapSet)
	if err != nil {
		t.Fatal(err)
	}
	return Lower(c, a, m, pt.shape, opt)
}

// opNamed is the pass state of one Einsum of a plan.
func opNamed(t *testing.T, pl *Plan, name string) *eplan {
	t.Helper()
	for _, p := range pl.lw.ops {
		if p.e.Name() == name {
			return p
		}
	}
	t.Fatalf("no Einsum %s in the plan", name)
	return nil
}

// wantErr checks err against a wanted substring ("" wants none).
func wantErr(t *testing.T, name string, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v", name, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("%s: got error %v, want one containing %q", name, err, want)
	default:
		return want == ""
	}
	return false
}

// checkGolden compares text with a golden file; -update-schedule (make
// golden) rewrites the file instead.
func checkGolden(t *testing.T, file, text string) {
	t.Helper()
	if *updateSchedule {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (make golden writes it)", err)
	}
	if string(want) != text {
		t.Errorf("the printed text differs from %s (make golden rewrites it; explain why in the commit):\n%s", file, text)
	}
}
