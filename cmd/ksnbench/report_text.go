package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// writeText prints the report for people: the machine, then per input set a
// table of the contenders, ksn against each of them, and how each was run.
// The text is built whole and written once, so a write error is reported
// once.
func (rep *report) writeText(out io.Writer) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ksnbench: ksn check vs a hashing floor and peers, inputs in the page cache\n")
	fmt.Fprintf(tw, "cpu\t%s, %d logical CPUs\n", rep.CPU, rep.LogicalCPUs)
	fmt.Fprintf(tw, "GOMAXPROCS\t%d\n", rep.GOMAXPROCS)
	fmt.Fprintf(tw, "go\t%s %s\n", rep.Go, rep.Platform)
	if rep.MemAvailable >= 0 {
		fmt.Fprintf(tw, "memory\t%s available\n", humanBytes(rep.MemAvailable))
	}
	if rep.LoadAverage >= 0 {
		fmt.Fprintf(tw, "load\t%.2f (1 min average, before the runs)\n", rep.LoadAverage)
	}
	if rep.KSN != "" {
		fmt.Fprintf(tw, "ksn\t%s\n", rep.KSN)
	} else {
		fmt.Fprintf(tw, "ksn\tskipped (-skip-ksn)\n")
	}
	fmt.Fprintf(tw, "peers\t%s\n", strings.Join(rep.PeerVersions, "; "))
	fmt.Fprintf(tw, "runs\t%d per contender (%d on the one small file), interleaved; median and min wall time\n", rep.Runs, rep.StartupRuns)
	for _, w := range rep.Warnings {
		fmt.Fprintf(tw, "WARNING\t%s\n", w)
	}
	tw.Flush()

	for _, s := range rep.Sets {
		fmt.Fprintf(&b, "\n== %s: %s (%d bytes)\n", s.Name, s.Description, s.Bytes)
		// Numbers align right; names are padded so they read left-aligned.
		width := len("contender")
		for _, c := range s.Contenders {
			width = max(width, len(c.Name))
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%-*s\tmedian\tmin\tspread\tCPU\tMB/s\t× floor\tpeak RSS\t\n", width, "contender")
		for _, c := range s.Contenders {
			if !c.Installed {
				fmt.Fprintf(tw, "%-*s\tnot installed\t\t\t\t\t\t\t\n", width, c.Name)
				continue
			}
			rss := "-"
			if c.PeakRSS > 0 {
				rss = rssText(c.PeakRSS, c.PeakRSSIsBound)
			}
			fmt.Fprintf(tw, "%-*s\t%s\t%s\t%.0f%%\t%s\t%.0f\t%.2f\t%s\t\n", width, c.Name,
				seconds(c.MedianNS), seconds(c.MinNS), 100*c.Spread, seconds(c.MedianCPUNS), c.MBPerS, c.PerFloor, rss)
		}
		tw.Flush()
		b.WriteString("\n")
		var ksn *contenderReport
		for i := range s.Contenders {
			if s.Contenders[i].Name == "ksn" {
				ksn = &s.Contenders[i]
			}
		}
		if ksn != nil {
			writeKSNComparison(&b, s, ksn)
		}
		writeGoals(&b, s.Goals)
		b.WriteString("notes:\n")
		switch {
		case ksn != nil && s.Name == "one":
			b.WriteString("  ksn: one KSN_HOME made by a run before the timed ones; KSN_NO_CACHE=1; stdout to /dev/null\n")
		case ksn != nil:
			b.WriteString("  ksn: every cache off: a fresh KSN_HOME per run (no database, no stat cache) and KSN_NO_CACHE=1; stdout to /dev/null\n")
			b.WriteString("  creating the database: ksn − ksn (warm db)\n")
		}
		if s.Name == "tree" {
			b.WriteString("  ksn re-check: the same command on the unchanged tree, the stat cache primed by a run before the timed ones\n")
			b.WriteString("  stat-walk: in this process, one goroutine walks the tree and stats every file, as find does\n")
		}
		if s.Name != "one" {
			b.WriteString("  floor, sha256-loop: in this process; a directory walk feeds GOMAXPROCS workers reading 256 KiB at a time\n")
		}
		if s.Name == "big" {
			b.WriteString("  the big file is one file, so one worker hashes it: each chunk to BLAKE3, then to SHA-256\n")
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
		b.WriteString("  CPU: median user + system time (of the child; of this process for the in-process loops), less swayed by other work than wall time\n")
		b.WriteString("  peak RSS: ru_maxrss of the child; \"≤\" marks a value no larger than ksnbench's own peak, which Linux charges to every child\n")
		b.WriteString("commands (stdout to /dev/null):\n")
		for _, c := range s.Contenders {
			if c.Installed && c.PeakRSS > 0 {
				fmt.Fprintf(&b, "  %s\n", c.Command)
			}
		}
	}
	_, err := out.Write(b.Bytes())
	return err
}

// writeKSNComparison prints how ksn fares against every other contender, by
// median and by minimum (the minimum is the steadier of the two when other
// work competes for the CPUs), the cost of creating the database, and ksn's
// peak RSS.
func writeKSNComparison(b *bytes.Buffer, s setReport, ksn *contenderReport) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ksn against\tby median\tby min\n")
	speed := func(peer, ksn int64) string {
		if r := ratio(time.Duration(peer), time.Duration(ksn)); r >= 1 {
			return fmt.Sprintf("%.2f× faster", r)
		} else if r > 0 {
			return fmt.Sprintf("%.2f× slower", 1/r)
		}
		return "-"
	}
	share := func(of, ksn int64) string {
		return fmt.Sprintf("takes %.2f×", ratio(time.Duration(ksn), time.Duration(of)))
	}
	var warm *contenderReport
	for i, c := range s.Contenders {
		switch {
		case c.Name == "ksn (warm db)":
			warm = &s.Contenders[i]
		case c.Name == "floor" || c.Name == "sha256-loop":
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, share(c.MedianNS, ksn.MedianNS), share(c.MinNS, ksn.MinNS))
		case c.KSNSpeedup > 0:
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, speed(c.MedianNS, ksn.MedianNS), speed(c.MinNS, ksn.MinNS))
		}
	}
	if warm != nil && warm.MedianNS > 0 {
		fmt.Fprintf(tw, "creating the database\t%.3f s of %.3f s\t%.3f s of %.3f s\n",
			time.Duration(ksn.MedianNS-warm.MedianNS).Seconds(), time.Duration(ksn.MedianNS).Seconds(),
			time.Duration(ksn.MinNS-warm.MinNS).Seconds(), time.Duration(ksn.MinNS).Seconds())
	}
	tw.Flush()
	fmt.Fprintf(b, "ksn peak RSS: %s (max over %d runs)\n", rssText(s.KSNPeakRSS, s.KSNPeakRSSIsBound), len(ksn.RunsNS))
}

// rssText formats a peak RSS, marking an upper bound with ≤.
func rssText(n int64, bound bool) string {
	if bound {
		return "≤ " + humanBytes(n)
	}
	return humanBytes(n)
}

// seconds formats a duration in ns for the table: milliseconds below a
// second, where the startup set lives.
func seconds(ns int64) string {
	d := time.Duration(ns)
	if d < time.Second {
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

// writeGoals prints each goal's ratio, by median and by minimum, and
// whether the median met it.
func writeGoals(b *bytes.Buffer, goals []goalReport) {
	if len(goals) == 0 {
		return
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "goal\tby median\tby min\tby CPU\ttarget\t\n")
	for _, g := range goals {
		met := "met"
		if !g.Met {
			met = "NOT MET"
		}
		fmt.Fprintf(tw, "%s\t%.2f×\t%.2f×\t%.2f×\t%s\t%s\n", g.What, g.Ratio, g.RatioByMin, g.RatioByCPU, g.Goal, met)
	}
	tw.Flush()
}
