package specs

import (
	"strings"
	"testing"
)

func TestParseQuantity(t *testing.T) {
	cases := []struct {
		in   string
		dim  Dim
		want float64
		err  string
	}{
		{"16 MiB", Bytes, 16 << 20, ""},
		{"4096 bit", Bytes, 512, ""},
		{"940MHz", Frequency, 940e6, ""},
		{"400 GiB/s", Bandwidth, 400 << 30, ""},
		{"1e3 pJ", Energy, 1000, ""},
		{"84.2 mm2", Area, 84.2e6, ""},
		{"7", Count, 7, ""},
		{"7 cycles", Count, 7, ""},
		{"7", Bytes, 0, "needs a unit"},
		{"7 MHz", Bytes, 0, "inconsistent"},
		{"7 furlongs", Bytes, 0, "unknown unit"},
		{"MiB", Bytes, 0, "not a number"},
		{"1_000 B", Bytes, 1000, ""},
		// Out-of-range values are errors, not NaN or a wrapped integer later.
		{"1e300GHz", Frequency, 0, "out of range"},
		{"1e30", Count, 0, "out of range"},
		{"1e309", Count, 0, "not a number"},
		{"-1e25 pJ", Energy, 0, "out of range"},
		{"1e24 B", Bytes, 1e24, ""},
	}
	for _, c := range cases {
		got, err := ParseQuantity(c.in, c.dim)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q = %g, %v; want %g", c.in, got, err, c.want)
		}
	}
}

func TestSet(t *testing.T) {
	d, err := Parse("x.yaml", []byte("a:\n  b: 1\n  c: [1, 2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a.b=2", "a.c.1=5", "a.new=3"} {
		if err := d.Set(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"a.c.9=1", "z.y=1", "a.b.c=1", "=1", "a.b=", "a..b=1"} {
		if err := d.Set(s); err == nil {
			t.Errorf("%s: no error", s)
		}
	}
}

func TestRead(t *testing.T) {
	if _, _, err := Read("arch", "fusemax-cloud"); err != nil {
		t.Error(err)
	}
	if _, _, err := Read("arch", "nope"); err == nil || !strings.Contains(err.Error(), "flat-cloud") {
		t.Errorf("want a list of built-ins, got %v", err)
	}
}

func FuzzSet(f *testing.F) {
	f.Add("a.b=1")
	f.Add("a.c.0=x")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse("x.yaml", []byte("a:\n  b: 1\n  c: [1]\n"))
		if err != nil {
			t.Fatal(err)
		}
		_ = d.Set(s)
		var errs Errors
		o := d.Obj(d.Root, "top", &errs)
		a := o.Sub("a", false)
		a.Num("b", Count, false, 0)
		a.StrList("c")
		a.Done()
		o.Done()
	})
}
