package reproduce

import (
	"fmt"
	"math"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower/multi"
)

// SequenceParallelName is the experiment `fusemax reproduce` runs through
// SequenceParallel rather than an experiment spec.
const SequenceParallelName = "sequence-parallel"

// The published numbers the experiment is checked against (workplace
// reference gpu/README.md §5, which cites each paper).
var (
	// Ring Attention (arXiv 2310.01889) Table 2: minimum block size per host.
	ringTable2 = []struct {
		Host, System string
		MinBlock     float64
	}{
		{"A100 NVLink", "8xa100-nvlink", 1.0e3},
		{"A100 InfiniBand", "32xa100-infiniband", 24.5e3},
		{"TPU v4", "tpuv4-4x4-torus", 1.0e3},
	}
	// Striped Attention (arXiv 2311.09431): Theoretical Maximum Speedup, 3B
	// model, 8×A100 as a 2×4 mesh; and the measured end-to-end 1.45× at 256K.
	stripedTMS      = map[int64]float64{16 << 10: 1.38, 64 << 10: 1.61, 256 << 10: 1.71}
	stripedMeasured = map[int64]float64{256 << 10: 1.45}
)

// stripedSetup is the Striped Attention configuration. The 2×4 mesh is read
// as a ring of 4 devices along one axis (group 4) with heads sharded along
// the other; the 3B model as 32 heads of 80 (hidden 2560). The model's
// non-attention FLOPs per token are not in the reference: they are fitted
// so that the ideal 16K row gives 1.38, and the 64K and 256K rows check the
// fit.
var stripedSetup = struct {
	System       string
	Group        int64
	Heads, Dim   int64
	IdealTile    int64 // mask tile of the ideal accounting (exact up to the kernel tile)
	KernelTile   [2]int64
	FitSeq       int64
	Seqs         []int64
	RealisticSys string
}{"8xa100-nvlink", 4, 32, 80, 128, [2]int64{2048, 4096}, 16 << 10, []int64{16 << 10, 64 << 10, 256 << 10}, "8xa100-nvlink"}

// SPOutput is a finished sequence-parallel reproduction: CSVs, SVG
// figures and summary.md, by file name.
type SPOutput struct {
	Files map[string][]byte
	Order []string
	// Checks are the headline comparisons, for tests and the summary.
	Checks []SPCheck
}

// SPCheck is one simulated number next to the published one.
type SPCheck struct {
	What      string
	Simulated float64
	Paper     float64
	Tolerance float64 // relative; 0: reported, not checked
}

// RelErr is the relative error of the simulated number.
func (c SPCheck) RelErr() float64 { return (c.Simulated - c.Paper) / c.Paper }

type spRun struct {
	out      *SPOutput
	progress func(done, total int)
	done     int
	attn     *einsum.Cascade
	causal   *einsum.Cascade
	merge    *einsum.Cascade // the library's ring_merge: a tree round's merge
}

const spSteps = 5

// SequenceParallel runs the multi-device checks: Ring Attention's block
// size, Striped Attention's speedup, Tree vs Ring decoding and Ulysses'
// communication volume.
func SequenceParallel(progress func(done, total int)) (*SPOutput, error) {
	p, err := kernels.Load("attention_1pass")
	if err != nil {
		return nil, err
	}
	causal, err := kernels.Load("causal_attention_1pass")
	if err != nil {
		return nil, err
	}
	merge, err := kernels.Load("ring_merge")
	if err != nil {
		return nil, err
	}
	r := &spRun{out: &SPOutput{Files: map[string][]byte{}}, progress: progress, attn: p.Cascades[0], causal: causal.Cascades[0], merge: merge.Cascades[0]}
	for _, step := range []func() error{r.ringBlocks, r.striped, r.decode, r.ulysses, r.summary} {
		if err := step(); err != nil {
			return nil, err
		}
		r.done++
		if r.progress != nil {
			r.progress(r.done, spSteps)
		}
	}
	return r.out, nil
}

func (r *spRun) add(name string, b []byte) {
	r.out.Files[name] = b
	r.out.Order = append(r.out.Order, name)
}

func (r *spRun) sim(c *einsum.Cascade, system string, sysSets []string, mapping string, mapSets []string, shape map[string]int64, opt multi.Options) (*multi.Report, error) {
	s, err := arch.LoadSystem(system, sysSets)
	if err != nil {
		return nil, err
	}
	m, err := multi.LoadMapping(mapping, mapSets)
	if err != nil {
		return nil, err
	}
	return multi.Simulate(c, s, m, shape, opt)
}

// csv renders rows with %.6g numbers.
func csvText(head []string, rows [][]any) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(head, ",") + "\n")
	for _, row := range rows {
		for i, v := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			switch x := v.(type) {
			case float64:
				b.WriteString(fmt.Sprintf("%.6g", x))
			default:
				b.WriteString(fmt.Sprint(x))
			}
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// ringExposed is the exposed share of a ring's latency at block size c
// (tokens per device), in the ideal accounting, non-causal.
func (r *spRun) ringExposed(system string, c int64, ideal bool) (float64, error) {
	s, err := arch.LoadSystem(system, nil)
	if err != nil {
		return 0, err
	}
	n := c * int64(s.Count)
	rep, err := r.sim(r.attn, system, nil, "ring", nil, map[string]int64{"B": 1, "H": 32, "E": 128, "F": 128, "M": n, "P": n}, multi.Options{Ideal: ideal})
	if err != nil {
		return 0, err
	}
	return rep.ExposedCommS / rep.LatencyS, nil
}

// minRingBlock is the block size (to 8 tokens) below which the ring's
// exposed communication exceeds 5% of its latency, coming down from blocks
// of 2·F/B (which hide the transfer): a device model with fixed overheads
// hides tiny blocks' transfers too, so the search does not start there.
func (r *spRun) minRingBlock(system string, fb float64, ideal bool) (int64, error) {
	exposed := func(c int64) (bool, error) {
		f, err := r.ringExposed(system, c, ideal)
		return f > 0.05, err
	}
	hi := int64(2*fb)/8*8 + 8
	if e, err := exposed(hi); err != nil || e {
		return 0, fmt.Errorf("%s: a block of 2·F/B = %d tokens does not hide its transfer (%v)", system, hi, err)
	}
	lo := hi
	for {
		lo = lo * 9 / 10 / 8 * 8
		if lo < 8 {
			return 8, nil
		}
		e, err := exposed(lo)
		if err != nil {
			return 0, err
		}
		if e {
			break
		}
		hi = lo
	}
	for hi-lo > 8 { // exposed(lo), hidden(hi)
		mid := (lo + hi) / 2 / 8 * 8
		e, err := exposed(mid)
		if err != nil {
			return 0, err
		}
		if e {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}

func (r *spRun) ringBlocks() error {
	var rows, curve [][]any
	for _, h := range ringTable2 {
		s, err := arch.LoadSystem(h.System, nil)
		if err != nil {
			return err
		}
		slow := math.Inf(1)
		for _, l := range s.Links {
			slow = math.Min(slow, l.Bandwidth)
		}
		fb := s.Device.PeakFLOPs / slow
		c, err := r.minRingBlock(h.System, fb, true)
		if err != nil {
			return err
		}
		// With the measured per-device rate, where the device has one.
		var real any = ""
		if s.Device.AttentionFLOPs > 0 || s.Device.Arch != "" {
			v, err := r.minRingBlock(h.System, fb, false)
			if err != nil {
				return err
			}
			real = v
			if v == 8 { // hidden at every block the search tries
				real = "<=8"
			}
		}
		chk := SPCheck{What: "Ring Attention min block, " + h.Host, Simulated: float64(c), Paper: h.MinBlock, Tolerance: 0.10}
		r.out.Checks = append(r.out.Checks, chk)
		rows = append(rows, []any{h.Host, h.System, s.Count, s.Device.PeakFLOPs / 1e12, slow / 1e9, s.Device.PeakFLOPs / slow, c, h.MinBlock, chk.RelErr(), real})
		for _, f := range []float64{0.25, 0.5, 0.75, 0.9, 0.95, 1, 1.1, 1.5, 2} {
			blk := int64(f*s.Device.PeakFLOPs/slow) / 8 * 8
			e, err := r.ringExposed(h.System, blk, true)
			if err != nil {
				return err
			}
			curve = append(curve, []any{h.Host, blk, e})
		}
	}
	r.add("ring-block-size.csv", csvText([]string{"host", "system", "devices", "peak_tflops", "slowest_link_gbs", "f_over_b", "simulated_min_block", "paper_min_block", "rel_error", "realistic_min_block"}, rows))
	r.add("ring-exposed.csv", csvText([]string{"host", "block", "exposed_fraction"}, curve))
	fig, err := lineFigure("Ring Attention: exposed communication vs block size (ideal)", "block size (tokens per device)", "exposed communication / latency", curve)
	if err != nil {
		return err
	}
	r.add("ring-exposed.svg", fig)
	return nil
}

func (r *spRun) stripedShape(seq int64) map[string]int64 {
	return map[string]int64{"B": 1, "H": stripedSetup.Heads, "E": stripedSetup.Dim, "F": stripedSetup.Dim, "M": seq, "P": seq}
}

// stripedSpeedup is ring latency / striped latency at one length.
func (r *spRun) stripedSpeedup(seq int64, ideal bool, extra float64, tile [2]int64, system string) (float64, float64, float64, error) {
	var lat [2]float64
	for i, m := range []string{"ring", "striped"} {
		sets := []string{fmt.Sprintf("group=%d", stripedSetup.Group), fmt.Sprintf("mask_tile.P=%d", tile[0]), fmt.Sprintf("mask_tile.M=%d", tile[1])}
		rep, err := r.sim(r.causal, system, nil, m, sets, r.stripedShape(seq), multi.Options{Ideal: ideal, ExtraFLOPsPerToken: extra, Training: true})
		if err != nil {
			return 0, 0, 0, err
		}
		lat[i] = rep.LatencyS
	}
	return lat[0] / lat[1], lat[0], lat[1], nil
}

// fitExtra finds the non-attention FLOPs per token that give the paper's
// ideal speedup at the fit length (bisection: more non-attention work,
// less speedup).
func (r *spRun) fitExtra() (float64, error) {
	t := stripedSetup.IdealTile
	lo, hi := 0.0, 1e11
	for i := 0; i < 50; i++ {
		mid := (lo + hi) / 2
		s, _, _, err := r.stripedSpeedup(stripedSetup.FitSeq, true, mid, [2]int64{t, t}, stripedSetup.System)
		if err != nil {
			return 0, err
		}
		if s > stripedTMS[stripedSetup.FitSeq] {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2, nil
}

func (r *spRun) striped() error {
	extra, err := r.fitExtra()
	if err != nil {
		return err
	}
	var rows [][]any
	var curve [][]any
	t := stripedSetup.IdealTile
	for _, seq := range stripedSetup.Seqs {
		for _, mode := range []string{"ideal", "realistic"} {
			tile, sys := [2]int64{t, t}, stripedSetup.System
			if mode == "realistic" {
				tile, sys = stripedSetup.KernelTile, stripedSetup.RealisticSys
			}
			s, ring, str, err := r.stripedSpeedup(seq, mode == "ideal", extra, tile, sys)
			if err != nil {
				return err
			}
			paper, what := stripedTMS[seq], "theoretical max"
			if mode == "realistic" {
				paper, what = stripedMeasured[seq], "measured"
			}
			row := []any{mode, seq, ring, str, s, what, paper, ""}
			if paper > 0 {
				chk := SPCheck{What: fmt.Sprintf("Striped speedup %s %dK", mode, seq>>10), Simulated: s, Paper: paper}
				if mode == "ideal" && seq != stripedSetup.FitSeq {
					chk.Tolerance = 0.05
				}
				r.out.Checks = append(r.out.Checks, chk)
				row[7] = fmt.Sprintf("%.4f", chk.RelErr())
			} else {
				row[6] = ""
			}
			rows = append(rows, row)
			curve = append(curve, []any{mode, seq, s})
		}
	}
	for _, seq := range stripedSetup.Seqs {
		curve = append(curve, []any{"paper theoretical max", seq, stripedTMS[seq]})
	}
	curve = append(curve, []any{"paper measured", int64(256 << 10), stripedMeasured[256<<10]})
	head := []string{"mode", "seq", "ring_s", "striped_s", "speedup", "paper_kind", "paper", "rel_error"}
	r.add("striped.csv", csvText(head, rows))
	r.add("striped-fit.csv", csvText([]string{"fitted", "value", "fitted_on"}, [][]any{
		{"nonattention_flops_per_token_per_layer", extra, fmt.Sprintf("ideal %dK row", stripedSetup.FitSeq>>10)},
		{"as_multiple_of_24_d2_d2560", extra / (24 * 2560 * 2560), "(24·d² = a standard layer's projections + MLP)"},
	}))
	fig, err := lineFigure("Striped over Ring Attention, causal, 8×A100 (ring of 4 × heads 2)", "sequence length (tokens)", "speedup of Striped over Ring", curve)
	if err != nil {
		return err
	}
	r.add("striped.svg", fig)
	return nil
}

func (r *spRun) decode() error {
	var rows [][]any
	shape := map[string]int64{"B": 1, "H": 32, "E": 128, "F": 128, "M": 1 << 20, "P": 1}
	var tree, ring *multi.Report
	for _, d := range []int{2, 4, 8} {
		sets := []string{fmt.Sprintf("count=%d", d)}
		rr, err := r.sim(r.attn, "8xh100-nvlink", sets, "ring", []string{"shard.P=replicated"}, shape, multi.Options{})
		if err != nil {
			return err
		}
		tr, err := r.sim(r.attn, "8xh100-nvlink", sets, "tree", nil, shape, multi.Options{Merge: r.merge})
		if err != nil {
			return err
		}
		for _, x := range []*multi.Report{rr, tr} {
			pd := x.PerDevice[0]
			rows = append(rows, []any{x.Schedule, d, x.CommSteps, x.LatencyS, x.ExposedCommS, pd.ComputeS, pd.MemoryBytes, rr.LatencyS / x.LatencyS})
		}
		ring, tree = rr, tr
	}
	r.out.Checks = append(r.out.Checks,
		SPCheck{What: "Tree steps at 8 devices (log2 D)", Simulated: float64(tree.CommSteps), Paper: 3, Tolerance: 1e-9},
		SPCheck{What: "Ring steps at 8 devices (D-1)", Simulated: float64(ring.CommSteps), Paper: 7, Tolerance: 1e-9},
		SPCheck{What: "Tree over Ring decode speedup, 1M tokens, 8×H100", Simulated: ring.LatencyS / tree.LatencyS, Paper: 8},
		SPCheck{What: "Ring / Tree peak memory per device", Simulated: ring.PerDevice[0].MemoryBytes / tree.PerDevice[0].MemoryBytes, Paper: 2})
	r.add("tree-vs-ring-decode.csv", csvText([]string{"schedule", "devices", "communication_steps", "latency_s", "exposed_communication_s", "compute_s", "memory_bytes_per_device", "speedup_of_tree_over_ring_x"}, rows))
	return nil
}

func (r *spRun) ulysses() error {
	var rows, curve [][]any
	var first float64
	for i, d := range []int64{2, 4, 8, 16, 32} {
		seq := 8192 * d
		rep, err := r.sim(r.attn, "8xa100-nvlink", []string{fmt.Sprintf("count=%d", d)}, "ulysses", nil,
			map[string]int64{"B": 1, "H": 32, "E": 128, "F": 128, "M": seq, "P": seq}, multi.Options{})
		if err != nil {
			return err
		}
		per := rep.LinkBytes / float64(d)
		norm := per * float64(d) / float64(d-1)
		if i == 0 {
			first = norm
		}
		rows = append(rows, []any{d, seq, per, norm, rep.PerDevice[0].CommunicationS, rep.LatencyS, rep.ExposedCommS})
		curve = append(curve, []any{"per device", d, per / 1e6}, []any{"per device × D/(D-1)", d, norm / 1e6})
		r.out.Checks = append(r.out.Checks, SPCheck{What: fmt.Sprintf("Ulysses bytes per device × D/(D-1), D=%d, vs D=2", d), Simulated: norm, Paper: first, Tolerance: 1e-9})
	}
	r.add("ulysses.csv", csvText([]string{"devices", "seq", "bytes_per_device", "bytes_per_device_x_d_over_d_minus_1", "communication_s", "latency_s", "exposed_communication_s"}, rows))
	fig, err := lineFigure("DeepSpeed-Ulysses: communication per device, sequence = 8K × devices", "devices", "MB sent per device", curve)
	if err != nil {
		return err
	}
	r.add("ulysses.svg", fig)
	return nil
}

func (r *spRun) summary() error {
	var b strings.Builder
	b.WriteString("# sequence-parallel: multi-device attention against the published analyses\n\n")
	b.WriteString("Regenerate with `fusemax reproduce sequence-parallel`. The model is docs/multidevice.md.\n\n")
	b.WriteString("| check | simulated | paper | rel. error | tolerance |\n|---|---|---|---|---|\n")
	for _, c := range r.out.Checks {
		tol := "reported"
		if c.Tolerance > 0 {
			tol = fmt.Sprintf("%.3g", c.Tolerance)
		}
		fmt.Fprintf(&b, "| %s | %.4g | %.4g | %+.4f | %s |\n", c.What, c.Simulated, c.Paper, c.RelErr(), tol)
	}
	b.WriteString(spNotes)
	r.add("summary.md", []byte(b.String()))
	return nil
}

const spNotes = `
Notes.

- Ring: ideal accounting (matrix FLOPs at peak, links at their one-way rate, no latency); the
  smallest block whose exposed communication is at most 5% of the latency sits just below F/B,
  where a step's transfer (keys and values, 4·c·d bytes) takes as long as its compute (4·c²·d FLOPs).
- Striped, ideal: the ring of 4 devices of the paper's 2×4 mesh, heads sharded over the other axis,
  training (attention backward 2.5× forward, other work 3×), causal tiles of 128 × 128. The
  model's non-attention FLOPs per token are fitted on the 16K row (striped-fit.csv); 64K and 256K
  check it. With the kernel's 2048 × 4096 tiles the 16K point cannot exceed 1.0: a device's block
  is 4096 tokens, one tile column, and every tile of a striped block straddles the diagonal.
- Striped, realistic: per-device attention lowered on the A100 spec as FlashAttention-2 tiles it
  (lower/gpu), 2048 × 4096 tiles skipped whole, so the diagonal tiles are computed in full; its speedup falls below the
  ideal, towards the measured 1.45×, which also pays for what this model leaves out (kernel
  efficiency on partly masked tiles, the permutation, non-overlapped collectives of the rest of
  the model).
- Tree vs Ring decoding: ring decoding moves every key/value shard around the ring (D−1 transfers
  of the whole shard over NVLink), tree moves only the partial (max, sum, numerator) in log2(D)
  exchanges; decoding one query is bound by reading the shard from HBM (lower/gpu's FA3 model
  of one query over 128K keys). The ring pays D−1 shard transfers over NVLink, so the simulated
  ratio grows with D and is larger than the paper's measured "up to 8×".
- Ulysses: each all-to-all sends (D−1)/D of a device's shard; at sequence = 8K·D the shard is
  constant, so bytes × D/(D−1) are constant exactly and the bytes per device approach a constant.
`
