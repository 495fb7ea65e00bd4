package specs

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Doc is one parsed spec file. Every value a loader reads comes from a
// yaml.Node, so that every message can point at file:line:col.
type Doc struct {
	File string
	Root *yaml.Node // the top-level mapping
	// set records the nodes written by --set, so that a bad override is
	// reported against the flag that made it rather than a line of the file.
	set map[*yaml.Node]string
}

// Error is one problem in a spec, at a position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return e.Where() + ": " + e.Msg }

// Where is the error's position: file:line:col, or the file (or --set
// flag) alone when there is no line.
func (e *Error) Where() string {
	if e.Line == 0 {
		return e.File
	}
	return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
}

// Errors is every problem found in one spec, in file order.
type Errors []*Error

func (l Errors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Err returns nil for an empty list, so that a loader can end with
// `return x, errs.Err()`.
func (l Errors) Err() error {
	if len(l) == 0 {
		return nil
	}
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Col < l[j].Col
	})
	return l
}

// Parse reads YAML text whose top level must be a mapping.
func Parse(file string, src []byte) (*Doc, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		return nil, yamlError(file, err)
	}
	d := &Doc{File: file, set: map[*yaml.Node]string{}}
	if n.Kind == 0 || len(n.Content) == 0 {
		return nil, &Error{File: file, Msg: "empty spec"}
	}
	d.Root = n.Content[0]
	if d.Root.Kind != yaml.MappingNode {
		return nil, d.Errorf(d.Root, "a spec must be a mapping of keys to values")
	}
	return d, nil
}

// yamlError turns the YAML library's "yaml: line N: msg" into file:N:1.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if strings.HasPrefix(msg, "line ") {
		rest := msg[5:]
		if i := strings.Index(rest, ":"); i > 0 {
			if l, e := strconv.Atoi(rest[:i]); e == nil {
				line = l
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	col := 0
	if line > 0 {
		col = 1
	}
	return &Error{File: file, Line: line, Col: col, Msg: msg}
}

// Errorf makes an Error at node n.
func (d *Doc) Errorf(n *yaml.Node, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if n == nil {
		return &Error{File: d.File, Msg: msg}
	}
	if flag, ok := d.set[n]; ok {
		return &Error{File: "--set " + flag, Msg: msg}
	}
	return &Error{File: d.File, Line: n.Line, Col: n.Column, Msg: msg}
}

// Pos is where node n is written (file:line:col, or the --set flag that
// wrote it), for messages that name a value of this spec while reporting
// a problem elsewhere.
func (d *Doc) Pos(n *yaml.Node) string { return d.Errorf(n, "").Where() }

// ParseSet splits one --set argument, path=value, into its dotted path and
// value.
func ParseSet(arg string) (path []string, value string, err error) {
	i := strings.Index(arg, "=")
	if i <= 0 {
		return nil, "", fmt.Errorf("--set %q: want path=value, e.g. arrays.2d.rows=128", arg)
	}
	p, value := strings.TrimSpace(arg[:i]), strings.TrimSpace(arg[i+1:])
	path = strings.Split(p, ".")
	for _, s := range path {
		if s == "" {
			return nil, "", fmt.Errorf("--set %q: empty component in path %q", arg, p)
		}
	}
	if value == "" {
		return nil, "", fmt.Errorf("--set %q: empty value", arg)
	}
	return path, value, nil
}

// Set applies one --set override. Every component but the last must
// exist; the last may be new (the loader then reports it if it is not a key
// the spec knows). Sequence elements are addressed by index.
func (d *Doc) Set(arg string) error {
	path, value, err := ParseSet(arg)
	if err != nil {
		return err
	}
	v := &yaml.Node{Kind: yaml.ScalarNode, Value: value}
	// A list value, as in onchip=[Q, K], is parsed as YAML.
	if strings.HasPrefix(value, "[") || strings.HasPrefix(value, "{") {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(value), &n); err != nil || len(n.Content) == 0 {
			return fmt.Errorf("--set %s: %q is not a YAML list or mapping", arg, value)
		}
		v = n.Content[0]
	}
	if err := d.Replace(path, v); err != nil {
		return fmt.Errorf("--set %s: %v", arg, err)
	}
	var mark func(n *yaml.Node)
	mark = func(n *yaml.Node) {
		d.set[n] = arg
		for _, c := range n.Content {
			mark(c)
		}
	}
	mark(v)
	return nil
}

// Replace puts node v at path, replacing what was there. Every component
// but the last must exist.
func (d *Doc) Replace(path []string, v *yaml.Node) error {
	n := d.Root
	for i, key := range path {
		last := i == len(path)-1
		where := strings.Join(path[:i], ".")
		if where == "" {
			where = "the top level"
		}
		switch n.Kind {
		case yaml.MappingNode:
			found := -1
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == key {
					found = j + 1
				}
			}
			switch {
			case found >= 0 && last:
				n.Content[found] = v
				return nil
			case found >= 0:
				n = n.Content[found]
			case last:
				k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
				d.set[k] = strings.Join(path, ".")
				n.Content = append(n.Content, k, v)
				return nil
			default:
				return fmt.Errorf("%s has no key %q", where, key)
			}
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(key)
			if err != nil || idx < 0 || idx >= len(n.Content) {
				return fmt.Errorf("%q is not an index of the list at %s (0..%d)", key, where, len(n.Content)-1)
			}
			if last {
				n.Content[idx] = v
				return nil
			}
			n = n.Content[idx]
		default:
			return fmt.Errorf("%s is a value, not a mapping", where)
		}
	}
	return nil
}

// Obj reads one YAML mapping strictly: every key it does not ask for is
// reported by Done as unknown, and every problem is collected in Errs
// rather than returned, so that one run reports all of them.
type Obj struct {
	Doc  *Doc
	Node *yaml.Node
	Errs *Errors
	seen map[string]bool
	what string // what the mapping is, for messages
}

// Obj starts reading mapping n, described as what in messages.
func (d *Doc) Obj(n *yaml.Node, what string, errs *Errors) *Obj {
	o := &Obj{Doc: d, Node: n, Errs: errs, seen: map[string]bool{}, what: what}
	if n != nil && n.Kind != yaml.MappingNode {
		o.fail(n, "%s must be a mapping of keys to values", what)
		o.Node = nil
	}
	return o
}

func (o *Obj) fail(n *yaml.Node, format string, args ...any) {
	*o.Errs = append(*o.Errs, o.Doc.Errorf(n, format, args...))
}

// Failf reports a problem at n (or at the mapping itself when n is nil).
func (o *Obj) Failf(n *yaml.Node, format string, args ...any) {
	if n == nil {
		n = o.Node
	}
	o.fail(n, format, args...)
}

// Keys lists the mapping's keys in file order.
func (o *Obj) Keys() []string {
	if o.Node == nil {
		return nil
	}
	var k []string
	for i := 0; i+1 < len(o.Node.Content); i += 2 {
		k = append(k, o.Node.Content[i].Value)
	}
	return k
}

// KeyNode returns the node of key itself (for messages about the key).
func (o *Obj) KeyNode(key string) *yaml.Node {
	if o.Node == nil {
		return nil
	}
	for i := 0; i+1 < len(o.Node.Content); i += 2 {
		if o.Node.Content[i].Value == key {
			return o.Node.Content[i]
		}
	}
	return nil
}

// Get returns key's value node, or nil, and marks the key as known.
func (o *Obj) Get(key string) *yaml.Node {
	o.seen[key] = true
	if o.Node == nil {
		return nil
	}
	var v *yaml.Node
	for i := 0; i+1 < len(o.Node.Content); i += 2 {
		if o.Node.Content[i].Value == key {
			if v != nil {
				o.fail(o.Node.Content[i], "%s: key %q given twice", o.what, key)
			}
			v = o.Node.Content[i+1]
		}
	}
	return v
}

// Need is Get for a required key.
func (o *Obj) Need(key string) *yaml.Node {
	v := o.Get(key)
	if v == nil && o.Node != nil {
		o.fail(o.Node, "%s: missing %q", o.what, key)
	}
	return v
}

// lookup is Need for a required key and Get otherwise.
func (o *Obj) lookup(key string, required bool) *yaml.Node {
	if required {
		return o.Need(key)
	}
	return o.Get(key)
}

// Sub reads a nested mapping (nil Node when absent).
func (o *Obj) Sub(key string, required bool) *Obj {
	n := o.lookup(key, required)
	return o.Doc.Obj(n, o.what+"."+key, o.Errs)
}

// Str reads a scalar string.
func (o *Obj) Str(key string, required bool) string {
	n := o.lookup(key, required)
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		o.fail(n, "%s.%s must be a single value", o.what, key)
		return ""
	}
	return n.Value
}

// StrList reads a list of scalars (a single scalar is a list of one).
func (o *Obj) StrList(key string) []string {
	n := o.Get(key)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		o.fail(n, "%s.%s must be a list", o.what, key)
		return nil
	}
	var out []string
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			o.fail(e, "%s.%s: list elements must be single values", o.what, key)
			continue
		}
		out = append(out, e.Value)
	}
	return out
}

// Num reads a quantity of dimension dim, in the dimension's base unit (B,
// Hz, B/s, pJ, um2, s or a plain count), and checks it against min.
func (o *Obj) Num(key string, dim Dim, required bool, min float64) float64 {
	n := o.lookup(key, required)
	if n == nil {
		return 0
	}
	v, err := ParseQuantity(n.Value, dim)
	if n.Kind != yaml.ScalarNode {
		err = errors.New("must be a single value")
	}
	if err != nil {
		o.fail(n, "%s.%s: %v", o.what, key, err)
		return 0
	}
	if v < min {
		o.fail(n, "%s.%s = %s must be at least %g%s", o.what, key, n.Value, min, baseUnits[dim])
	}
	return v
}

// MaxInt bounds a count: every whole number up to it is exact as a float64,
// and converting it to int64 cannot wrap.
const MaxInt = 1 << 53

// Int reads a whole count.
func (o *Obj) Int(key string, required bool, min int64) int64 {
	v := o.Num(key, Count, required, float64(min))
	if v != math.Trunc(v) {
		o.fail(o.Get(key), "%s.%s must be a whole number", o.what, key)
	}
	if math.Abs(v) > MaxInt {
		o.fail(o.Get(key), "%s.%s = %s is out of range: a count is at most 2^53", o.what, key, o.Get(key).Value)
		return 0
	}
	return int64(v)
}

// Bool reads true or false; def when the key is absent.
func (o *Obj) Bool(key string, def bool) bool {
	switch v := o.Str(key, false); v {
	case "":
		return def
	case "true":
		return true
	case "false":
		return false
	default:
		o.fail(o.Get(key), "%s.%s must be true or false, not %q", o.what, key, v)
		return def
	}
}

// Done reports every key that was not asked for.
func (o *Obj) Done() {
	if o.Node == nil {
		return
	}
	var known []string
	for k := range o.seen {
		known = append(known, k)
	}
	sort.Strings(known)
	for i := 0; i+1 < len(o.Node.Content); i += 2 {
		k := o.Node.Content[i]
		if !o.seen[k.Value] {
			o.fail(k, "%s: unknown key %q (known: %s)", o.what, k.Value, strings.Join(known, ", "))
		}
	}
}

// ParseWithSets is Parse followed by the --set overrides, applied in order: the
// first step of every spec loader (arch, system, GPU mapping).
func ParseWithSets(file string, src []byte, sets []string) (*Doc, error) {
	d, err := Parse(file, src)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		if err := d.Set(s); err != nil {
			return nil, err
		}
	}
	return d, nil
}
