package reproduce

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The figures' text as a reviewer sees it: inside the page, clear of other
// text and of the data. Each string's box runs from its anchor for
// textSlack times its measured width, as a viewer with a wider fallback
// font sets it.
func TestFiguresLayout(t *testing.T) {
	_, out := referenceOutput(t)
	pages, err := figurePages(out)
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, pages)

	// A run that has produced only some configurations: no figure
	// normalised to the missing Unfused, the rest laid out as well.
	part := *out
	part.Tables = map[string]*Table{}
	for k, v := range out.Tables {
		if k != "attn-unfused.csv" && k != "attn-cascade.csv" {
			part.Tables[k] = v
		}
	}
	pages, err = figurePages(&part)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pages["fig8-attention-speedup.svg"]; ok || pages["fig6a-util-2d.svg"] == nil || pages["fig7-bert-einsum-activity.svg"] == nil {
		t.Errorf("without Unfused: figures %v", len(pages))
	}
	checkLayout(t, pages)
}

func checkLayout(t *testing.T, pages map[string]*page) {
	t.Helper()
	for name, pg := range pages {
		lc := &layoutCanvas{w: pg.w, h: pg.h, m: identity}
		pg.draw(draw.New(lc))
		page := box{0, 0, float64(pg.w), float64(pg.h)}
		for i, a := range lc.texts {
			if !page.contains(a.box) {
				t.Errorf("%s: %q runs off the page: %v", name, a.s, a.box)
			}
			for _, b := range lc.texts[i+1:] {
				if a.box.overlaps(b.box) {
					t.Errorf("%s: %q overlaps %q", name, a.s, b.s)
				}
			}
			for _, f := range lc.fills {
				if a.box.overlaps(f) {
					t.Errorf("%s: %q at %v covers a mark at %v", name, a.s, a.box, f)
					break
				}
			}
		}
	}
}

type box struct{ x0, y0, x1, y1 float64 }

func (a box) String() string { return fmt.Sprintf("[%.0f,%.0f]–[%.0f,%.0f]", a.x0, a.y0, a.x1, a.y1) }

// overlaps ignores a touch: a string's box includes its line gap.
func (a box) overlaps(b box) bool {
	const eps = 0.75
	return a.x0+eps < b.x1 && b.x0+eps < a.x1 && a.y0+eps < b.y1 && b.y0+eps < a.y1
}

func (a box) contains(b box) bool {
	return b.x0 >= a.x0 && b.y0 >= a.y0 && b.x1 <= a.x1 && b.y1 <= a.y1
}

func (a box) add(x, y float64) box {
	return box{math.Min(a.x0, x), math.Min(a.y0, y), math.Max(a.x1, x), math.Max(a.y1, y)}
}

var empty = box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}

// affine maps (x, y) to (a·x + c·y + e, b·x + d·y + f).
type affine struct{ a, b, c, d, e, f float64 }

var identity = affine{a: 1, d: 1}

func (m affine) mul(n affine) affine {
	return affine{
		a: m.a*n.a + m.c*n.b, b: m.b*n.a + m.d*n.b,
		c: m.a*n.c + m.c*n.d, d: m.b*n.c + m.d*n.d,
		e: m.a*n.e + m.c*n.f + m.e, f: m.b*n.e + m.d*n.f + m.f,
	}
}

func (m affine) apply(x, y float64) (float64, float64) {
	return m.a*x + m.c*y + m.e, m.b*x + m.d*y + m.f
}

type text struct {
	s   string
	box box
}

// layoutCanvas records where text and filled marks land, in page points.
type layoutCanvas struct {
	w, h  vg.Length
	m     affine
	stack []affine
	color color.Color
	texts []text
	fills []box
}

func (c *layoutCanvas) Size() (vg.Length, vg.Length)        { return c.w, c.h }
func (c *layoutCanvas) SetLineWidth(vg.Length)              {}
func (c *layoutCanvas) SetLineDash([]vg.Length, vg.Length)  {}
func (c *layoutCanvas) SetColor(col color.Color)            { c.color = col }
func (c *layoutCanvas) Push()                               { c.stack = append(c.stack, c.m) }
func (c *layoutCanvas) Pop()                                { c.m, c.stack = c.stack[len(c.stack)-1], c.stack[:len(c.stack)-1] }
func (c *layoutCanvas) Stroke(vg.Path)                      {}
func (c *layoutCanvas) DrawImage(vg.Rectangle, image.Image) {}

func (c *layoutCanvas) Rotate(rad float64) {
	s, co := math.Sincos(rad)
	c.m = c.m.mul(affine{a: co, b: s, c: -s, d: co})
}

func (c *layoutCanvas) Translate(pt vg.Point) {
	c.m = c.m.mul(affine{a: 1, d: 1, e: float64(pt.X), f: float64(pt.Y)})
}

func (c *layoutCanvas) Scale(x, y float64) { c.m = c.m.mul(affine{a: x, d: y}) }

// Fill records non-white fills: the page and panel backgrounds are white.
func (c *layoutCanvas) Fill(p vg.Path) {
	if r, g, b, a := c.color.RGBA(); a == 0 || r == 0xffff && g == 0xffff && b == 0xffff {
		return
	}
	bb := empty
	for _, comp := range p {
		switch comp.Type {
		case vg.MoveComp, vg.LineComp:
			bb = bb.add(c.m.apply(float64(comp.Pos.X), float64(comp.Pos.Y)))
		case vg.ArcComp:
			r := float64(comp.Radius)
			bb = bb.add(c.m.apply(float64(comp.Pos.X)-r, float64(comp.Pos.Y)-r))
			bb = bb.add(c.m.apply(float64(comp.Pos.X)+r, float64(comp.Pos.Y)+r))
		}
	}
	if bb.x1 > bb.x0 && bb.y1 > bb.y0 {
		c.fills = append(c.fills, bb)
	}
}

func (c *layoutCanvas) FillString(f font.Face, pt vg.Point, s string) {
	if f.Font.Size == 0 || s == "" {
		return
	}
	ext := f.Extents()
	w := float64(f.Width(s)) * textSlack
	x, y := float64(pt.X), float64(pt.Y)
	bb := empty
	for _, p := range [][2]float64{{x, y - float64(ext.Descent)}, {x + w, y - float64(ext.Descent)}, {x, y + float64(ext.Ascent)}, {x + w, y + float64(ext.Ascent)}} {
		bb = bb.add(c.m.apply(p[0], p[1]))
	}
	c.texts = append(c.texts, text{s, bb})
}
