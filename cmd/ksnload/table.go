package main

import (
	"fmt"
	"io"
	"time"
)

// printTable prints the medians, one row per cell and server, with the
// ratio of each server's throughput to the ceiling's in the same cell.
func printTable(w io.Writer, targets []target, batches, clients []int, res map[string]map[[2]int]cellResult) {
	fmt.Fprintf(w, "\n%-8s %-7s %-10s %12s %8s %9s %9s %7s %9s %9s\n",
		"batch", "clients", "server", "files/s", "ceiling", "p50", "p99", "errors", "gen-cpu", "srv-cpu")
	for _, b := range batches {
		for _, n := range clients {
			k := [2]int{b, n}
			ceiling := res["ceiling"][k].FilesPerSec
			for _, t := range targets {
				r := res[t.name][k]
				ratio := "-"
				if ceiling > 0 && t.name != "ceiling" {
					ratio = fmt.Sprintf("%.2fx", r.FilesPerSec/ceiling)
				}
				fmt.Fprintf(w, "%-8d %-7d %-10s %12.0f %8s %9s %9s %7d %9.2f %9.2f\n",
					b, n, t.name, r.FilesPerSec, ratio, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond),
					r.Errors, r.GenCPU, r.ServerCPU)
			}
		}
	}
}
