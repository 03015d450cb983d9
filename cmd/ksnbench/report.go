package main

import (
	"fmt"
	"runtime"
	"slices"
	"time"
)

// report is everything ksnbench prints, as text or JSON.
type report struct {
	CPU          string      `json:"cpu"`
	LogicalCPUs  int         `json:"logical_cpus"`
	GOMAXPROCS   int         `json:"gomaxprocs"`
	Go           string      `json:"go"`
	Platform     string      `json:"platform"`
	MemAvailable int64       `json:"mem_available_bytes"`
	LoadAverage  float64     `json:"load_average_1m"`
	KSN          string      `json:"ksn,omitempty"`
	PeerVersions []string    `json:"peer_versions"`
	Runs         int         `json:"runs"`
	StartupRuns  int         `json:"startup_runs"` // on the one small file
	Warnings     []string    `json:"warnings,omitempty"`
	Sets         []setReport `json:"sets"`
}

// setReport is the outcome on one input set.
type setReport struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Files       int               `json:"files"`
	Bytes       int64             `json:"bytes"`
	Contenders  []contenderReport `json:"contenders"`
	// KSNPerSHA256Loop is ksn's median time over the SHA-256 loop's.
	KSNPerSHA256Loop float64 `json:"ksn_per_sha256_loop,omitempty"`
	// KSNPeakRSS is the largest peak RSS of any ksn run with every cache off.
	KSNPeakRSS        int64    `json:"ksn_peak_rss_bytes,omitempty"`
	KSNPeakRSSIsBound bool     `json:"ksn_peak_rss_is_upper_bound,omitempty"`
	Notes             []string `json:"notes,omitempty"`
	// Goals are the ratios issue 17 set targets for, where both sides ran.
	Goals []goalReport `json:"goals,omitempty"`
}

// goalReport is one ratio of medians (and of minimums) against its target.
type goalReport struct {
	What       string  `json:"what"` // "cold check ÷ re-check"
	Ratio      float64 `json:"ratio"`
	RatioByMin float64 `json:"ratio_by_min"`
	RatioByCPU float64 `json:"ratio_by_cpu"` // of median CPU times
	Goal       string  `json:"goal"`         // "≥ 10×"
	Met        bool    `json:"met"`          // by median
}

// goal is a target: the median of a over that of b, at least (or, when
// atMost, at most) target.
type goal struct {
	set, what, a, b string
	target          float64
	atMost          bool
}

// goals are issue 17's targets, per input set.
var goals = []goal{
	{"tree", "cold check ÷ re-check", "ksn", "ksn re-check", 10, false},
	{"tree", "cold check (warm db) ÷ re-check", "ksn (warm db)", "ksn re-check", 10, false},
	{"tree", "re-check ÷ find -printf", "ksn re-check", "find -printf", 2, true},
	{"tree", "re-check ÷ stat-walk (in-process)", "ksn re-check", "stat-walk", 2, true},
	{"one", "ksn check ÷ ksn --version", "ksn", "ksn --version", 1.5, true},
}

// goalReports computes the goals of set from the contenders' medians and
// minimums.
func goalReports(set string, medians, mins, cpus map[string]time.Duration) []goalReport {
	var out []goalReport
	for _, g := range goals {
		r := ratio(medians[g.a], medians[g.b])
		if g.set != set || r == 0 {
			continue
		}
		gr := goalReport{What: g.what, Ratio: r, RatioByMin: ratio(mins[g.a], mins[g.b]), RatioByCPU: ratio(cpus[g.a], cpus[g.b])}
		if g.atMost {
			gr.Goal, gr.Met = fmt.Sprintf("≤ %g×", g.target), r <= g.target
		} else {
			gr.Goal, gr.Met = fmt.Sprintf("≥ %g×", g.target), r >= g.target
		}
		out = append(out, gr)
	}
	return out
}

// contenderReport is one contender's times on one input set; a ratio that
// cannot be computed (a contender not installed or not timed) is 0.
type contenderReport struct {
	Name      string  `json:"name"`
	Command   string  `json:"command"`
	Installed bool    `json:"installed"`
	RunsNS    []int64 `json:"runs_ns,omitempty"`
	MedianNS  int64   `json:"median_ns,omitempty"`
	MinNS     int64   `json:"min_ns,omitempty"`
	MBPerS    float64 `json:"mb_per_s,omitempty"`
	// PerFloor is the median over the floor's median.
	PerFloor float64 `json:"per_floor,omitempty"`
	// Spread is (slowest − fastest) ÷ median over the runs: the noise.
	Spread float64 `json:"spread,omitempty"`
	// MedianCPUNS is the median user + system time.
	MedianCPUNS int64 `json:"median_cpu_ns,omitempty"`
	// PeakRSS is the largest peak RSS over the runs (external commands only).
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
	// PeakRSSIsBound says PeakRSS is an upper bound, not the value: it did
	// not exceed ksnbench's own peak, which Linux charges to every child.
	PeakRSSIsBound bool `json:"peak_rss_is_upper_bound,omitempty"`
	// KSNSpeedup is this peer's median over ksn's: how many times faster ksn is.
	KSNSpeedup float64 `json:"ksn_speedup,omitempty"`
}

// newReport describes the machine. It is called before the inputs are
// generated, so the load average is not that of ksnbench's own work.
func newReport(runs, startupRuns int) *report {
	return &report{
		CPU:          cpuModel(),
		LogicalCPUs:  runtime.NumCPU(),
		GOMAXPROCS:   runtime.GOMAXPROCS(0),
		Go:           runtime.Version(),
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
		MemAvailable: memAvailable(),
		LoadAverage:  loadAverage(),
		Runs:         runs,
		StartupRuns:  startupRuns,
	}
}

// newSetReport turns the samples of cs into medians, minimums, throughput and
// the ratios to the floor and to ksn.
func newSetReport(set *inputSet, cs []*contender, notes []string) setReport {
	sr := setReport{
		Name:        set.name,
		Description: set.desc,
		Files:       len(set.files),
		Bytes:       set.bytes,
		Notes:       notes,
	}
	medians, mins, cpus := map[string]time.Duration{}, map[string]time.Duration{}, map[string]time.Duration{}
	for _, c := range cs {
		cr := contenderReport{Name: c.name, Command: c.command, Installed: c.missing == ""}
		if len(c.samples) > 0 {
			walls := make([]time.Duration, len(c.samples))
			cpu := make([]time.Duration, len(c.samples))
			for i, s := range c.samples {
				walls[i], cpu[i] = s.wall, s.cpu
				cr.RunsNS = append(cr.RunsNS, int64(s.wall))
				if s.maxRSS > cr.PeakRSS {
					cr.PeakRSS, cr.PeakRSSIsBound = s.maxRSS, s.rssBound
				}
			}
			med := median(walls)
			medians[c.name], mins[c.name] = med, slices.Min(walls)
			cr.MedianNS, cr.MinNS = int64(med), int64(slices.Min(walls))
			cr.Spread = ratio(slices.Max(walls)-slices.Min(walls), med)
			cpus[c.name] = median(cpu)
			cr.MedianCPUNS = int64(cpus[c.name])
			cr.MBPerS = float64(set.bytes) / 1e6 / med.Seconds()
		}
		sr.Contenders = append(sr.Contenders, cr)
	}
	floor, ksn := medians["floor"], medians["ksn"]
	for i := range sr.Contenders {
		cr := &sr.Contenders[i]
		if m, ok := medians[cr.Name]; ok {
			cr.PerFloor = ratio(m, floor)
			if _, isPeer := peerNames()[cr.Name]; isPeer {
				cr.KSNSpeedup = ratio(m, ksn)
			}
		}
		if cr.Name == "ksn" {
			sr.KSNPeakRSS, sr.KSNPeakRSSIsBound = cr.PeakRSS, cr.PeakRSSIsBound
		}
	}
	sr.KSNPerSHA256Loop = ratio(ksn, medians["sha256-loop"])
	sr.Goals = goalReports(set.name, medians, mins, cpus)
	return sr
}

// peerNames is the set of peers' names: only a peer gets a KSNSpeedup, not
// the in-process loops or ksn itself.
func peerNames() map[string]bool {
	m := map[string]bool{}
	for _, p := range peers {
		m[p.name] = true
	}
	return m
}

// ratio is a/b, or 0 when either is missing.
func ratio(a, b time.Duration) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// median of ds (the mean of the middle two for an even count); ds is not
// modified.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
