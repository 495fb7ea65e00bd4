package einsum

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  string
	}{
		{"64", 64, ""},
		{"4K", 4096, ""},
		{"1M", 1 << 20, ""},
		{"1048576M", 1 << 40, ""},
		{"1048577M", 0, `"1048577M" is more than 2^40`},
		{"9223372036854775807", 0, "is more than 2^40"},
		{"99999999999999999999", 0, "is more than 2^40"},
		{"0", 0, `"0" is not a positive integer size`},
		{"-99999999999999999999", 0, "not a positive integer size"},
		{"4KK", 0, `"4KK" is not a positive integer size`},
	}
	for _, c := range cases {
		got, err := ParseSize(c.in)
		if c.err == "" && (err != nil || got != c.want) {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ParseSize(%q): %v; want %q", c.in, err, c.err)
		}
	}
}
