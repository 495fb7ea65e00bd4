package specs

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// FS holds the shipped specs: arch/*.yaml, mapping/*.yaml, configs/**.yaml
// (kernel, arch, mapping triples), experiments/*.yaml (reproductions),
// system/*.yaml (multi-device systems) and profiles/*.yaml (accounting
// profiles).
//
//go:embed arch mapping configs experiments system profiles
var FS embed.FS

// Read resolves a spec reference. A reference that names an existing file
// is read from disk (so a user's own spec always wins); otherwise it is
// looked up among the embedded specs of kind (arch, mapping, configs,
// experiments, system or profiles),
// with or without the .yaml suffix. It returns the name to print in
// messages and the bytes.
func Read(kind, ref string) (string, []byte, error) {
	if b, err := os.ReadFile(ref); err == nil {
		return ref, b, nil
	}
	name := strings.TrimSuffix(ref, ".yaml")
	p := path.Join(kind, name+".yaml")
	b, err := FS.ReadFile(p)
	if err != nil {
		return "", nil, fmt.Errorf("no %s spec %q: not a file, and not one of the built-in %s specs (%s)", kind, ref, kind, strings.Join(Names(kind), ", "))
	}
	return "specs/" + p, b, nil
}

// Names lists the embedded specs of one kind, without the .yaml suffix,
// sorted.
func Names(kind string) []string {
	var out []string
	_ = fs.WalkDir(FS, kind, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(p, kind+"/"), ".yaml"))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// Has reports whether name (with or without .yaml) is one of the embedded
// specs of kind.
func Has(kind, name string) bool {
	_, err := fs.Stat(FS, path.Join(kind, strings.TrimSuffix(name, ".yaml")+".yaml"))
	return err == nil
}
