package reproduce

// Figures draws the experiment's figures as SVG, keyed by file name.
func Figures(out *Output) (map[string][]byte, error) {
	return map[string][]byte{}, nil
}
