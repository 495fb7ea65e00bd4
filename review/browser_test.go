package review

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var updateLayout = flag.Bool("update-layout", false, "rewrite testdata/report-layout.txt from this machine's Chromium")

// checker runs in the page under test: it records errors and console
// errors from the first script on, and at the end of the body measures
// what the test asserts, leaving it as JSON in <pre id="fusemax-check">.
const checkerHead = `<script>window.__errs=[];window.addEventListener("error",e=>__errs.push(String(e.message)));
const __ce=console.error;console.error=(...a)=>{__errs.push(a.join(" "));__ce(...a)};</script>`

const checkerTail = `<script>(function(){
const W=document.documentElement.clientWidth, out={width:W,errors:__errs,charts:[],overflow:[],resources:performance.getEntriesByType("resource").length};
out.scrollWidth=document.documentElement.scrollWidth;out.height=document.documentElement.scrollHeight;
for(const svg of document.querySelectorAll("svg.chart")){
  const b=svg.getBoundingClientRect(), marks=[...svg.querySelectorAll(".mark")];
  let inside=0;for(const m of marks){const r=m.getBoundingClientRect();
    if(r.width>0&&r.height>0&&r.left>=b.left-6&&r.right<=b.right+6&&r.top>=b.top-6&&r.bottom<=b.bottom+6)inside++;}
  out.charts.push({id:svg.id,declared:+svg.dataset.marks,marks:marks.length,inside:inside,width:b.width});}
for(const el of document.body.querySelectorAll("*")){
  if(el.closest(".scroll")&&!el.classList.contains("scroll"))continue;
  const r=el.getBoundingClientRect();if(r.right>W+0.5)out.overflow.push(el.tagName+(el.id?"#"+el.id:"")+" right="+Math.round(r.right));}
const pre=document.createElement("pre");pre.id="fusemax-check";pre.style.display="none";pre.textContent=JSON.stringify(out);document.body.appendChild(pre);})();</script>`

type check struct {
	Width, ScrollWidth, Height, Resources int
	Errors                                []string
	Overflow                              []string
	Charts                                []struct {
		ID                      string
		Declared, Marks, Inside int
		Width                   float64
	}
}

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI is set: .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (Debian: apt-get install -y chromium); the report's browser test needs it")
	return ""
}

// shotHeight is the window's height: the test report fits in it.
const shotHeight = 3600

// runChromium loads a file headless in a 1280 px wide window and returns
// the DOM after its scripts ran; with shot, it also saves a screenshot.
func runChromium(t *testing.T, bin, page, shot string) string {
	t.Helper()
	mode := []string{"--dump-dom"}
	if shot != "" {
		mode = append(mode, "--screenshot="+shot)
	}
	// Generous: Chromium starts in seconds, but a loaded CI machine can
	// take a minute.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--disable-extensions", "--force-device-scale-factor=1", "--user-data-dir=" + t.TempDir(),
		fmt.Sprintf("--window-size=1280,%d", shotHeight)}, mode...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v", strings.Join(mode, " "), err)
	}
	return string(out)
}

var (
	checkJSON = regexp.MustCompile(`(?s)<pre id="fusemax-check"[^>]*>(.*?)</pre>`)
	frameJSON = regexp.MustCompile(`(?s)<pre id="fusemax-check-frame"[^>]*>(.*?)</pre>`)
)

// withChecker is page with the checker injected.
func withChecker(page []byte) string {
	html := strings.Replace(string(page), "<head>", "<head>"+checkerHead, 1)
	return strings.Replace(html, "</body>", checkerTail+"</body>", 1)
}

// inspect injects the checker into page, and into framed, a second page
// loaded in a frame out of sight (position fixed, left of the window, so
// that page's layout, errors and measurements stay its own; the frame's
// load copies its result out), and returns both measurements from one
// Chromium run, Chromium's start being most of a browser test's time; with
// shot, it saves a screenshot of page too (the checker draws nothing).
func inspect(t *testing.T, bin string, page, framed []byte, shot string) (check, check) {
	t.Helper()
	frame := `<iframe style="position:fixed;left:-3000px;top:0;width:1280px;height:800px;border:0" srcdoc="` +
		html.EscapeString(withChecker(framed)) + `" onload="const p=document.createElement('pre');p.id='fusemax-check-frame';` +
		`p.style.display='none';p.textContent=this.contentDocument.getElementById('fusemax-check').textContent;document.body.appendChild(p)"></iframe>`
	doc := strings.Replace(withChecker(page), "</body>", frame+"</body>", 1)
	path := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, bin, path, shot)
	return parseCheck(t, checkJSON, dom), parseCheck(t, frameJSON, dom)
}

func parseCheck(t *testing.T, re *regexp.Regexp, dom string) check {
	t.Helper()
	m := re.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the checker left no result; the page did not run it")
	}
	var c check
	if err := json.Unmarshal([]byte(strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(m[1])), &c); err != nil {
		t.Fatalf("checker result: %v", err)
	}
	return c
}

func problems(c check) []string {
	var p []string
	for _, e := range c.Errors {
		p = append(p, "console error: "+e)
	}
	if c.Resources > 0 {
		p = append(p, fmt.Sprintf("the page loaded %d resources; it must be self-contained", c.Resources))
	}
	if c.ScrollWidth > c.Width {
		p = append(p, fmt.Sprintf("the page is %d px wide at %d px", c.ScrollWidth, c.Width))
	}
	for _, o := range c.Overflow {
		p = append(p, "overflows 1280 px: "+o)
	}
	for _, ch := range c.Charts {
		if ch.Marks == 0 || ch.Marks != ch.Declared || ch.Inside != ch.Marks {
			p = append(p, fmt.Sprintf("chart %s: %d marks drawn of %d, %d inside the chart", ch.ID, ch.Marks, ch.Declared, ch.Inside))
		}
	}
	return p
}

// browserReview is a small real review: three accelerator designs and a
// GPU (no energy model: its energy and energy-breakdown entries are
// empty) at three lengths.
func browserReview(t *testing.T) []byte {
	r := &Review{Title: "Browser test review", Profile: DefaultProfile, Baseline: "flat", Designs: []*Design{
		{Label: "flat", Config: "fusemax-micro24/flat"},
		{Label: "cascade", Config: "fusemax-micro24/cascade"},
		{Label: "binding", Config: "fusemax-micro24/binding"},
		{Label: "h100", Kernel: "attention_1pass", Arch: "h100-sxm5-80gb"},
	}}
	var err error
	if r.Cases, err = WorkloadCases([]string{"BERT"}, []int64{1 << 10, 1 << 14, 1 << 18}); err != nil {
		t.Fatal(err)
	}
	cmp, err := Compare(r, NewEvaluator(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := cmp.HTML()
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// brokenPage has what the checker must catch: a script error, a block
// wider than the window and a chart without its marks.
const brokenPage = `<!DOCTYPE html><html><head></head><body><div style="width:2000px">wide</div>` +
	`<svg class="chart" id="empty" data-marks="3" viewBox="0 0 10 10"></svg><script>throw new Error("boom")</script></body></html>`

// TestReportInBrowser renders a real report in headless Chromium at 1280
// px: no console errors, no resources fetched, every chart with all its
// marks inside it, nothing wider than the window, and a screenshot whose
// layout matches testdata/report-layout.txt within a tolerance. The same
// run feeds the checker a broken page, whose error, overflow and chart
// without data it must see.
func TestReportInBrowser(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	page := browserReview(t)
	shot := filepath.Join(t.TempDir(), "shot.png")
	c, broken := inspect(t, bin, page, []byte(brokenPage), shot)
	t.Run("checker catches a broken page", func(t *testing.T) {
		got := strings.Join(problems(broken), "\n")
		for _, want := range []string{"boom", "overflows 1280 px: DIV", "chart empty: 0 marks"} {
			if !strings.Contains(got, want) {
				t.Errorf("the checker missed %q; it reported:\n%s", want, got)
			}
		}
	})
	if len(c.Charts) < 8 {
		t.Errorf("the report has %d charts; want latency, energy, roofline, and utilization and energy per shape", len(c.Charts))
	}
	for _, p := range problems(c) {
		t.Error(p)
	}
	if c.Height > shotHeight {
		t.Errorf("the test report is %d px tall; the screenshot covers %d", c.Height, shotHeight)
	}
	got := layoutOf(t, shot)
	golden := filepath.Join("testdata", "report-layout.txt")
	if *updateLayout {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readLayout(t, golden)
	if d := got.diff(want); d != "" {
		t.Errorf("the screenshot's layout differs from %s (regenerate with go test ./review -run TestReportInBrowser -update-layout if the change is meant):\n%s", golden, d)
	}
}

// layout is a screenshot reduced to the mean darkness of 32 px cells:
// what is where on the page, not its pixels, so that font hinting does
// not matter but a moved, missing or resized block does.
type layout struct {
	w, h  int
	cells []float64
}

const cell = 32

func layoutOf(t *testing.T, path string) layout {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	l := layout{w: b.Dx() / cell, h: b.Dy() / cell}
	l.cells = make([]float64, l.w*l.h)
	for cy := 0; cy < l.h; cy++ {
		for cx := 0; cx < l.w; cx++ {
			l.cells[cy*l.w+cx] = darkness(img, b.Min.X+cx*cell, b.Min.Y+cy*cell)
		}
	}
	return l
}

func darkness(img image.Image, x0, y0 int) float64 {
	sum := 0.0
	for y := y0; y < y0+cell; y++ {
		for x := x0; x < x0+cell; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			sum += 1 - (0.299*float64(r)+0.587*float64(g)+0.114*float64(b))/65535
		}
	}
	return sum / (cell * cell)
}

func (l layout) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d\n", l.w, l.h)
	for y := 0; y < l.h; y++ {
		for x := 0; x < l.w; x++ {
			fmt.Fprintf(&b, "%.3f ", l.cells[y*l.w+x])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func readLayout(t *testing.T, path string) layout {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (generate it with go test ./review -run TestReportInBrowser -update-layout)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var l layout
	sc.Scan()
	fmt.Sscan(sc.Text(), &l.w, &l.h)
	for sc.Scan() {
		for _, v := range strings.Fields(sc.Text()) {
			var x float64
			fmt.Sscan(v, &x)
			l.cells = append(l.cells, x)
		}
	}
	if len(l.cells) != l.w*l.h {
		t.Fatalf("%s: %d cells, want %d×%d", path, len(l.cells), l.w, l.h)
	}
	return l
}

// Tolerances: a cell may differ by a quarter of its darkness range (text
// rendered a pixel off), the page on average by 0.01; its height by two
// cells.
const cellTol, meanTol = 0.25, 0.01

func (l layout) diff(want layout) string {
	if l.w != want.w || math.Abs(float64(l.h-want.h)) > 2 {
		return fmt.Sprintf("size %d×%d cells, want %d×%d", l.w, l.h, want.w, want.h)
	}
	var bad []string
	sum, n := 0.0, 0
	for y := 0; y < min(l.h, want.h); y++ {
		for x := 0; x < l.w; x++ {
			d := math.Abs(l.cells[y*l.w+x] - want.cells[y*want.w+x])
			sum, n = sum+d, n+1
			if d > cellTol && len(bad) < 10 {
				bad = append(bad, fmt.Sprintf("cell at (%d px, %d px) darkness %.3f, want %.3f", x*cell, y*cell, l.cells[y*l.w+x], want.cells[y*want.w+x]))
			}
		}
	}
	if mean := sum / float64(max(n, 1)); mean > meanTol {
		bad = append(bad, fmt.Sprintf("mean difference %.4f > %.4f", mean, meanTol))
	}
	return strings.Join(bad, "\n")
}
