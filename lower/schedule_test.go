package lower

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/sim"
)

// The schedule pass: the loops and items the sim.Schedule has, and that
// it validates.
func TestSchedulePass(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pt    point
		root  string // the root's body: loop names
		group string // the first group loop's body, a loop's body in brackets
		qk    string // what QK waits for
		err   string
	}{
		{"pipelined: loads of per-group inputs before the iterate loop", binding1K, "group",
			"load QK m1[load QK QK LM RM SLN SLD load SLNV SLNV PRM SPD RD SPNV RNV] AV store AV",
			"load QK@group load QK@m1", ""},
		{"one at a time: each iteration waits for the last of every unit", arch1K, "group",
			"load QK m1[load QK QK LM RM SLN SLD load SLNV SLNV PRM SPD RD SPNV RNV] AV store AV",
			"load QK@group load QK@m1 SLNV@m1-1 SLNV@group-1 RNV@m1-1 RNV@group-1", ""},
		{"phases run one after another", unfused1K, "group phase 0,group phase 1,group phase 2", "load QK QK store QK", "load QK@group phase 0", ""},
	} {
		pl, err := tc.pt.lower(t, Options{})
		if !wantErr(t, tc.name, err, tc.err) {
			continue
		}
		s := pl.Schedule
		if err := sim.Validate(s); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		var loops []string
		for _, it := range s.Root.Body {
			loops = append(loops, it.(*sim.Loop).Name)
		}
		if got := strings.Join(loops, ","); got != tc.root {
			t.Errorf("%s: root loops %s, want %s", tc.name, got, tc.root)
		}
		if got := bodyText(s.Root.Body[0].(*sim.Loop)); got != tc.group {
			t.Errorf("%s: group body %s, want %s", tc.name, got, tc.group)
		}
		if got := depsText(pl.lw.opOf[pl.lw.ops[0].e].op); got != tc.qk {
			t.Errorf("%s: QK waits for %s, want %s", tc.name, got, tc.qk)
		}
	}
}

// bodyText names a loop's items, a nested loop's in brackets.
func bodyText(l *sim.Loop) string {
	var out []string
	for _, it := range l.Body {
		switch it := it.(type) {
		case *sim.Op:
			out = append(out, it.Name)
		case *sim.Loop:
			out = append(out, it.Name+"["+bodyText(it)+"]")
		}
	}
	return strings.Join(out, " ")
}

// depsText lists what an operation waits for: op@loop, minus the
// iterations back.
func depsText(o *sim.Op) string {
	var out []string
	for _, d := range o.Deps {
		s := d.Op.Name + "@" + d.Loop.Name
		if d.Back > 0 {
			s += fmt.Sprintf("-%d", d.Back)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}
