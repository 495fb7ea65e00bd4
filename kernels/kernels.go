package kernels

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

//go:embed *.einsum
var files embed.FS

// Names lists the built-in kernels, sorted. A kernel's name is its file's
// name without .einsum, which is also the name of the cascade it holds.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".einsum"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Source returns a built-in kernel's text.
func Source(name string) ([]byte, bool) {
	b, err := files.ReadFile(name + ".einsum")
	return b, err == nil
}

// Load parses and checks a built-in kernel. Positions in errors name the
// file as kernels/NAME.einsum.
func Load(name string) (*einsum.Program, error) {
	src, ok := Source(name)
	if !ok {
		return nil, fmt.Errorf("no built-in kernel %q (built-in: %s)", name, strings.Join(Names(), ", "))
	}
	return einsum.Parse("kernels/"+name+".einsum", src)
}

// Resolve reads what a command line names: a file path when one exists,
// else a built-in kernel. It returns the display name used in positions and
// the source text.
func Resolve(arg string) (filename string, src []byte, err error) {
	if st, statErr := os.Stat(arg); statErr == nil && !st.IsDir() {
		src, err = os.ReadFile(arg)
		return arg, src, err
	}
	if src, ok := Source(strings.TrimSuffix(arg, ".einsum")); ok {
		return "kernels/" + strings.TrimSuffix(arg, ".einsum") + ".einsum", src, nil
	}
	return "", nil, fmt.Errorf("%s: no such file, and no built-in kernel of that name (built-in: %s)", arg, strings.Join(Names(), ", "))
}
