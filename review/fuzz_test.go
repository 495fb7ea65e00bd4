package review

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"1K..1M*4", "64,128,256", "8MiB..64MiB*2", "1..5+2", "[Q,K],[Q]", "1..", "5..1", "0.5..2*1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := ParseList(s)
		if err == nil && (len(vs) == 0 || len(vs) > maxValues) {
			t.Errorf("ParseList(%q) gave %d values", s, len(vs))
		}
	})
}

func FuzzParseReview(f *testing.F) {
	f.Add(reviewYAML)
	f.Add("designs:\n  - {label: a, config: x}\nshapes:\n  - {B: 1, M: 1K}\n")
	f.Add("designs: [\n")
	f.Fuzz(func(t *testing.T, src string) {
		r, err := ParseReview("r.yaml", []byte(src))
		if err == nil && (len(r.Designs) == 0 || len(r.Cases) == 0 || r.design(r.Baseline) == nil) {
			t.Errorf("ParseReview accepted a review without designs, shapes or baseline: %q", src)
		}
	})
}

func FuzzReadTable(f *testing.F) {
	f.Add("point,design,kernel,bound,util_2d,work_pe_ops,error\n0,d,k,2d,0.5,1,\n")
	f.Add("point,x\n")
	f.Fuzz(func(t *testing.T, src string) {
		tb, err := ReadTable("s.csv", strings.NewReader(src))
		if err != nil {
			return
		}
		if m, err := Merge([]string{"s.csv"}, []*Table{tb}); err == nil {
			var b bytes.Buffer
			if err := m.WriteCSV(&b); err != nil {
				t.Error(err)
			}
		}
	})
}
