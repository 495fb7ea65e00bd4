package multi

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// The cascades the multi-device schedules need beyond the kernel library:
// a causal 1-pass attention, whose filter gives a causal mask tiles to skip.
//
//go:embed cascades/*.einsum
var cascadeFS embed.FS

// CascadeNames lists the embedded cascades.
func CascadeNames() []string {
	entries, _ := cascadeFS.ReadDir("cascades")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".einsum"))
	}
	sort.Strings(out)
	return out
}

// CascadeSource returns an embedded cascade's text and the path it is shown
// under.
func CascadeSource(name string) (string, []byte, error) {
	path := "cascades/" + name + ".einsum"
	src, err := cascadeFS.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("no multi-device cascade %q (have: %s)", name, strings.Join(CascadeNames(), ", "))
	}
	return "lower/multi/" + path, src, nil
}

// LoadCascade parses and checks an embedded cascade.
func LoadCascade(name string) (*einsum.Cascade, error) {
	file, src, err := CascadeSource(name)
	if err != nil {
		return nil, err
	}
	p, err := einsum.Parse(file, src)
	if err != nil {
		return nil, err
	}
	return p.Cascades[0], nil
}
