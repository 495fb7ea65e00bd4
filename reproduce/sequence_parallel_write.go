package reproduce

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// lineFigure draws one line per series of rows [series, x, y], in the
// order the series first appear, on a log x axis.
func lineFigure(title, xlabel, ylabel string, rows [][]any) ([]byte, error) {
	pg := newPage(title, "", "", 8*vg.Inch, 6*vg.Inch)
	p := newPanel("", true)
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	var names []string
	pts := map[string]plotter.XYs{}
	for _, r := range rows {
		name := fmt.Sprint(r[0])
		if _, ok := pts[name]; !ok {
			names = append(names, name)
		}
		pts[name] = append(pts[name], plotter.XY{X: num(r[1]), Y: num(r[2])})
	}
	for i, n := range names {
		l, s, err := plotter.NewLinePoints(pts[n])
		if err != nil {
			return nil, err
		}
		col := palette[i%len(palette)]
		l.Color, s.Color, l.Width = col, col, 1.5
		s.Shape = [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}[i%4]
		s.Radius = 4
		p.Add(l, s)
		pg.add(n, l, s)
	}
	pg.rows = [][]*plot.Plot{{p}}
	return pg.svg()
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return math.NaN()
}

// WriteSequenceParallel writes the reproduction's files into dir: into a
// temporary directory first, renamed into place, so that a failure leaves
// nothing half-written.
func WriteSequenceParallel(dir string, out *SPOutput) error {
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), ".sequence-parallel-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, name := range out.Order {
		if err := os.WriteFile(filepath.Join(tmp, name), out.Files[name], 0o644); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}
