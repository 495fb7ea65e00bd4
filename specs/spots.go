package specs

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Spots remembers where a decoded spec's values are written, by dotted
// path ("tile.P", "shard.M"), so that a value that is well-formed on its
// own but rejected later, once it meets a cascade or a machine, is still
// reported at its file:line:col.
type Spots struct {
	doc *Doc
	at  map[string]spot
}

type spot struct{ key, val *yaml.Node }

// Spots starts recording positions in d.
func (d *Doc) Spots() *Spots { return &Spots{doc: d, at: map[string]spot{}} }

// Note records where key of o is written, as path (nothing when o lacks
// key). It does not mark the key as read: a key the decoder never asks for
// is still reported as unknown.
func (s *Spots) Note(path string, o *Obj, key string) {
	if o.Node == nil {
		return
	}
	for i := 0; i+1 < len(o.Node.Content); i += 2 {
		if o.Node.Content[i].Value == key {
			s.at[path] = spot{o.Node.Content[i], o.Node.Content[i+1]}
		}
	}
}

// NoteNode records node n (a list element, say) as both the key and the
// value at path.
func (s *Spots) NoteNode(path string, n *yaml.Node) { s.at[path] = spot{n, n} }

// Value is the value node recorded at path, or nil.
func (s *Spots) Value(path string) *yaml.Node { return s.at[path].val }

// Pos is where the key recorded at path is written, for a message that
// is not an Error of its own (a warning).
func (s *Spots) Pos(path string) string { return s.Errorf(path, true, "").Where() }

// Errorf is an Error at the value recorded at path, or at its key with
// atKey; at the file alone when nothing is recorded there.
func (s *Spots) Errorf(path string, atKey bool, format string, args ...any) *Error {
	if s == nil {
		return &Error{File: "(no file)", Msg: fmt.Sprintf(format, args...)}
	}
	n := s.at[path].val
	if atKey {
		n = s.at[path].key
	}
	return s.doc.Errorf(n, format, args...)
}
