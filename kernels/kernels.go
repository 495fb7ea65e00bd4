package kernels

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/syntax"
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
		src, err = readBounded(arg)
		return arg, src, err
	}
	if src, ok := Source(strings.TrimSuffix(arg, ".einsum")); ok {
		return "kernels/" + strings.TrimSuffix(arg, ".einsum") + ".einsum", src, nil
	}
	if st, statErr := os.Stat(arg); statErr == nil && st.IsDir() {
		return "", nil, fmt.Errorf("%s is a directory; name its .einsum files (%s/*.einsum) or a built-in kernel (%s)", arg, strings.TrimSuffix(arg, "/"), strings.Join(Names(), ", "))
	}
	return "", nil, fmt.Errorf("%s: no such file, and no built-in kernel of that name (built-in: %s)", arg, strings.Join(Names(), ", "))
}

// readBounded reads a file, stopping one byte past what the parser accepts
// (a device such as /dev/zero never ends); the parser reports the size.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, syntax.MaxFileBytes+1))
}
