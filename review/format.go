package review

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fusemax/fusemax/workload"
)

// Formats are the comparison table formats.
var Formats = []string{"table", "markdown", "csv", "json"}

// Write renders the comparison in one of Formats.
func (c *Comparison) Write(w io.Writer, format string) error {
	switch format {
	case "table":
		return c.writeText(w, false)
	case "markdown":
		return c.writeText(w, true)
	case "csv":
		return c.writeCSV(w)
	case "json":
		return c.writeJSON(w)
	}
	return fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats, ", "))
}

// header is a table's column titles; cells are one row's.
func (c *Comparison) header() []string {
	h := []string{"design", "passes", "latency", "speedup", "energy", "energy ratio"}
	for _, u := range c.Units {
		h = append(h, "util "+u)
	}
	h = append(h, "bound")
	for _, l := range c.Levels {
		h = append(h, l+" peak")
	}
	return append(h, "traffic", "area")
}

func (c *Comparison) cells(r *Row) []string {
	if r.M == nil {
		return append([]string{r.Design}, slicesRepeat("—", len(c.header())-1)...)
	}
	m := r.M
	s := []string{r.Design, strconv.Itoa(m.Passes), si(m.LatencyS, "s"), times(r.Speedup), si(m.EnergyPJ*1e-12, "J"), ratio(r.EnergyRatio)}
	for _, u := range c.Units {
		s = append(s, pct(m.Utilization, u))
	}
	s = append(s, m.Bound)
	for _, l := range c.Levels {
		v, ok := m.BufferPeakBytes[l]
		if !ok {
			v = math.NaN()
		}
		s = append(s, bytesIEC(v))
	}
	area := "—"
	if !math.IsNaN(m.AreaMM2) {
		area = fmt.Sprintf("%.1f mm²", m.AreaMM2)
	}
	return append(s, bytesIEC(m.TrafficBytes), area)
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// writeText is the plain table or its Markdown form: a legend of the
// designs, then one table per case, then the notes (mapping choices,
// points that could not be evaluated).
func (c *Comparison) writeText(w io.Writer, md bool) error {
	r := c.Review
	if md {
		fmt.Fprintf(w, "# %s\n\nEnergy profile %s; baseline %s.\n\n", r.Title, r.Profile, r.Baseline)
	} else {
		fmt.Fprintf(w, "%s\nenergy profile %s; baseline %s\n\n", r.Title, r.Profile, r.Baseline)
	}
	c.writeLegend(w, md)
	for ci, t := range c.Tables {
		if md {
			fmt.Fprintf(w, "\n## %s\n\n", r.Cases[ci].Name)
			writeMarkdownTable(w, c.header(), rowsOf(c, t))
		} else {
			fmt.Fprintf(w, "\n%s\n", r.Cases[ci].Name)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(c.header(), "\t"))
			for _, cells := range rowsOf(c, t) {
				fmt.Fprintln(tw, strings.Join(cells, "\t"))
			}
			tw.Flush()
		}
		c.writeNotes(w, ci, md)
	}
	return nil
}

func rowsOf(c *Comparison, t []*Row) [][]string {
	var out [][]string
	for _, r := range t {
		out = append(out, c.cells(r))
	}
	return out
}

func writeMarkdownTable(w io.Writer, head []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|", strings.Join(head, " | "))
	for i := range head {
		if i == 0 {
			fmt.Fprint(w, "---|")
		} else {
			fmt.Fprint(w, "---:|")
		}
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}

// writeLegend says what each design is, from its first evaluated point.
func (c *Comparison) writeLegend(w io.Writer, md bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for di, d := range c.Review.Designs {
		desc := c.describe(di)
		if md {
			fmt.Fprintf(w, "- **%s**: %s\n", d.Label, desc)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\n", d.Label, desc)
		}
	}
	tw.Flush()
}

func (c *Comparison) describe(di int) string {
	d := c.Review.Designs[di]
	for _, t := range c.Tables {
		if m := t[di].M; m != nil {
			s := fmt.Sprintf("%s on %s, mapping %s", m.Kernel, m.Arch, m.Mapping)
			if d.Config != "" {
				s += " (config " + d.Config + ")"
			}
			if len(d.Set) > 0 {
				s += ", set " + strings.Join(d.Set, " ")
			}
			return s
		}
	}
	return "(no point evaluated)"
}

func (c *Comparison) writeNotes(w io.Writer, ci int, md bool) {
	notes := c.notes(ci)
	if md && len(notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range notes {
		if md {
			fmt.Fprintf(w, "- %s\n", n)
		} else {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
}

// notes are a case's mapping choices and the points not evaluated.
func (c *Comparison) notes(ci int) []string {
	var out []string
	for _, r := range c.Tables[ci] {
		switch {
		case r.Error != "":
			out = append(out, r.Design+": not evaluated: "+oneLine(r.Error))
		case r.M.MappingNote != "":
			out = append(out, r.Design+": mapping "+r.M.Mapping+": "+r.M.MappingNote)
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeCSV is one row per design and case, every metric in base units.
func (c *Comparison) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := append([]string{"case", "workload", "seq", "shape", "design", "baseline", "speedup", "energy_ratio"}, metricHeader(c.Units, c.Levels, c.Parts)...)
	cw.Write(head)
	for ci, t := range c.Tables {
		cs := c.Review.Cases[ci]
		for _, r := range t {
			row := []string{cs.Name, cs.Workload, seqText(cs.Seq), workload.FormatShape(cs.Shape), r.Design,
				strconv.FormatBool(r.Design == c.Review.Baseline), num(r.Speedup), num(r.EnergyRatio)}
			cw.Write(append(row, metricCells(r.M, r.Error, c.Units, c.Levels, c.Parts)...))
		}
	}
	cw.Flush()
	return cw.Error()
}

func seqText(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// metricHeader and metricCells are the metric columns both compare's and
// sweep's CSVs carry.
func metricHeader(units, levels, parts []string) []string {
	h := []string{"kernel", "arch", "mapping", "passes", "latency_s", "cycles", "energy_pj", "traffic_bytes", "area_mm2", "bound"}
	for _, u := range units {
		h = append(h, "util_"+u)
	}
	for _, l := range levels {
		h = append(h, "peak_"+l+"_bytes")
	}
	for _, p := range parts {
		h = append(h, "energy_"+p+"_pj")
	}
	return append(h, "work_pe_ops", "peak_pe_ops_per_s", "offchip_bytes_per_s", "mapping_note", "error")
}

func metricCells(m *Metrics, errText string, units, levels, parts []string) []string {
	if m == nil {
		out := slicesRepeat("", len(metricHeader(units, levels, parts)))
		out[len(out)-1] = oneLine(errText)
		return out
	}
	s := []string{m.Kernel, m.Arch, m.Mapping, strconv.Itoa(m.Passes), num(m.LatencyS), num(m.Cycles), num(m.EnergyPJ),
		num(m.TrafficBytes), num(m.AreaMM2), m.Bound}
	for _, u := range units {
		s = append(s, optNum(m.Utilization, u))
	}
	for _, l := range levels {
		s = append(s, optNum(m.BufferPeakBytes, l))
	}
	for _, p := range parts {
		s = append(s, optNum(m.EnergyParts, p))
	}
	return append(s, num(m.WorkOps), num(m.PeakOpsS), num(m.BandwidthBS), m.MappingNote, "")
}

func optNum(m map[string]float64, k string) string {
	if v, ok := m[k]; ok {
		return num(v)
	}
	return ""
}

// num prints a float exactly enough to read back (10 significant digits,
// as simulate's CSV does); NaN and infinities print empty.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 10, 64)
}

// jsonRow is a row with its ratios as numbers or null.
type jsonRow struct {
	Design      string   `json:"design"`
	Speedup     *float64 `json:"speedup"`
	EnergyRatio *float64 `json:"energy_ratio"`
	Metrics     *Metrics `json:"metrics,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// MarshalJSON writes a metric the model does not give (a GPU's energy and
// area) as null: JSON has no NaN.
func (m Metrics) MarshalJSON() ([]byte, error) {
	type plain Metrics
	return json.Marshal(struct {
		plain
		EnergyPJ *float64 `json:"energy_pj"`
		AreaMM2  *float64 `json:"area_mm2"`
	}{plain(m), finite(m.EnergyPJ), finite(m.AreaMM2)})
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (c *Comparison) writeJSON(w io.Writer) error {
	type table struct {
		Case Case      `json:"case"`
		Rows []jsonRow `json:"rows"`
	}
	out := struct {
		Title    string    `json:"title"`
		Profile  string    `json:"energy_profile"`
		Baseline string    `json:"baseline"`
		Designs  []*Design `json:"designs"`
		Tables   []table   `json:"tables"`
	}{Title: c.Review.Title, Profile: c.Review.Profile, Baseline: c.Review.Baseline, Designs: c.Review.Designs}
	for ci, t := range c.Tables {
		tb := table{Case: c.Review.Cases[ci]}
		for _, r := range t {
			tb.Rows = append(tb.Rows, jsonRow{Design: r.Design, Speedup: finite(r.Speedup), EnergyRatio: finite(r.EnergyRatio), Metrics: r.M, Error: r.Error})
		}
		out.Tables = append(out.Tables, tb)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// si prints a value with an SI prefix: 7.40 s, 12.3 ms, 1.23 kJ.
func si(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if v == 0 {
		return "0 " + unit
	}
	prefixes := []string{"p", "n", "µ", "m", "", "k", "M", "G", "T"}
	e := int(math.Floor(math.Log10(math.Abs(v)) / 3))
	e = max(-4, min(4, e))
	return fmt.Sprintf("%.3g %s%s", v/math.Pow(1000, float64(e)), prefixes[e+4], unit)
}

// bytesIEC prints a byte count in binary units: 12.3 MiB.
func bytesIEC(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.3g %s", v, units[i])
}

func times(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return ratio(v) + "×"
}

func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if v >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%#.3g", v)
}

func pct(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}
