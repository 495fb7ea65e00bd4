package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
)

// inputError is invalid input already rendered for the user (source line
// and caret included); main prints it as is, with exit status 1.
type inputError struct{ msg string }

func (e inputError) Error() string { return e.msg }

// loadProgram reads a file or a built-in kernel and checks it, rendering
// any error with its source line.
func loadProgram(arg string) (*einsum.Program, []byte, error) {
	name, src, err := kernels.Resolve(arg)
	if err != nil {
		return nil, nil, err
	}
	prog, err := einsum.Parse(name, src)
	if err != nil {
		return nil, src, inputError{einsum.Render(err, src)}
	}
	return prog, src, nil
}

// loadCascade is loadProgram plus the choice of one cascade: the one named,
// or the only one in the file.
func loadCascade(arg, name string) (*einsum.Cascade, error) {
	prog, _, err := loadProgram(arg)
	if err != nil {
		return nil, err
	}
	return pickCascade(prog, name)
}

func pickCascade(prog *einsum.Program, name string) (*einsum.Cascade, error) {
	if name != "" {
		if c := prog.Cascade(name); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("%s has no cascade %q (it has: %s)", prog.File, name, cascadeNames(prog))
	}
	if len(prog.Cascades) > 1 {
		return nil, usagef("%s holds several cascades (%s); choose one with --cascade", prog.File, cascadeNames(prog))
	}
	return prog.Cascades[0], nil
}

func cascadeNames(p *einsum.Program) string {
	s := make([]string, len(p.Cascades))
	for i, c := range p.Cascades {
		s[i] = c.Name
	}
	return strings.Join(s, ", ")
}

// bindShape parses --shape and binds it to c, noting on stderr the sizes c
// does not use (one shape string may drive several kernels).
func bindShape(c *einsum.Cascade, shape string, stderr io.Writer) (map[string]int64, error) {
	s, err := einsum.ParseShape(shape)
	if err != nil {
		return nil, usagef("--shape: %v", err)
	}
	sizes, unused, err := c.Bind(s)
	if err != nil {
		return nil, err
	}
	if len(unused) > 0 {
		fmt.Fprintf(stderr, "note: cascade %s does not use %s; ignored\n", c.Name, strings.Join(unused, ", "))
	}
	return sizes, nil
}
