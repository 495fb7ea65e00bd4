package workload

import (
	"fmt"
	"testing"
)

func TestParseLength(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{{"1K", 1024, true}, {"64k", 65536, true}, {"1M", 1 << 20, true}, {"3000", 3000, true}, {"0", 0, false}, {"-1K", 0, false}, {"K", 0, false}, {"9999999M", 0, false}}
	for _, c := range cases {
		got, err := ParseLength(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%q = %d, %v", c.in, got, err)
		}
	}
	for _, n := range []int64{1024, 65536, 1 << 20, 3000} {
		if back, _ := ParseLength(FormatLength(n)); back != n {
			t.Errorf("round trip of %d gave %d", n, back)
		}
	}
}

func TestParseShape(t *testing.T) {
	s, err := ParseShape("B=1, H=32,E=128,M=8K")
	if err != nil || s["M"] != 8192 || s["H"] != 32 {
		t.Errorf("%v %v", s, err)
	}
	for _, bad := range []string{"", "B", "B=1,B=2", "=3", "B=x"} {
		if _, err := ParseShape(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := Lookup("gpt"); err == nil {
		t.Error("unknown model accepted")
	}
}

func FuzzParseShape(f *testing.F) {
	f.Add("B=1,H=32,E=128,F=128,M=8192,P=8192")
	f.Add("M=1M")
	f.Fuzz(func(t *testing.T, s string) {
		if sh, err := ParseShape(s); err == nil {
			for k, v := range sh {
				if k == "" || v <= 0 {
					t.Fatalf("%q gave %s=%d", s, k, v)
				}
			}
		}
	})
}

func ExampleModel_Shape() {
	m, _ := Lookup("bert")
	n, _ := ParseLength("64K")
	fmt.Println(FormatShape(m.Shape(n)))
	// Output: B=64,D=768,E=64,F=64,H=12,M=65536,P=65536,S=3072
}
