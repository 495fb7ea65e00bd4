package specs

// Top returns the scalar value of a top-level key of a parsed spec, or "".
func (d *Doc) Top(key string) string {
	for i := 0; i+1 < len(d.Root.Content); i += 2 {
		if d.Root.Content[i].Value == key {
			return d.Root.Content[i+1].Value
		}
	}
	return ""
}

// KindOf is the top-level `kind` of spec ref among the specs of a kind
// folder (arch, mapping, experiments): "" when the spec has none or cannot
// be read. It routes a spec to its loader (`kind: gpu` to the GPU path).
func KindOf(folder, ref string) string {
	file, src, err := Read(folder, ref)
	if err != nil {
		return ""
	}
	d, err := Parse(file, src)
	if err != nil {
		return ""
	}
	return d.Top("kind")
}
