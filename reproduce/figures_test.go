package reproduce

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Figures drawn from the artifact's own CSVs: every figure appears, is an
// SVG, and drawing twice gives the same bytes. FUSEMAX_FIGURES=DIR keeps
// them for a look.
func TestFiguresFromReference(t *testing.T) {
	_, out := referenceOutput(t)
	a, err := Figures(out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Figures(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fig6a-util-2d.svg", "fig6b-util-1d.svg", "fig7-bert-einsum-activity.svg", "fig8-attention-speedup.svg",
		"fig9-attention-energy.svg", "fig10-end-to-end-speedup.svg", "fig11-end-to-end-energy.svg", "fig12-area-vs-latency.svg"} {
		svg, ok := a[name]
		if !ok {
			t.Errorf("no %s", name)
			continue
		}
		// A font is referenced with a generic fallback, never embedded
		// (each figure carried the whole 550 KB font).
		if bytes.Contains(svg, []byte("@font-face")) || len(svg) > 100<<10 || !bytes.Contains(svg, []byte("',serif;")) {
			t.Errorf("%s: %d bytes, embedded font %v, generic family %v", name, len(svg), bytes.Contains(svg, []byte("@font-face")), bytes.Contains(svg, []byte("',serif;")))
		}
		if !bytes.HasPrefix(svg, []byte("<?xml")) || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s is not an SVG", name)
		}
		if !bytes.Equal(svg, b[name]) {
			t.Errorf("%s differs between two drawings", name)
		}
		if dir := os.Getenv("FUSEMAX_FIGURES"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, name), svg, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
