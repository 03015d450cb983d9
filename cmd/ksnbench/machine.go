package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// cpuModel is the CPU's name and the instructions that decide hashing speed
// (SHA extensions, AVX2, AVX-512), from /proc/cpuinfo where there is one.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	var model string
	var flags []string
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case model == "" && k == "model name":
			model = v
		case flags == nil && (k == "flags" || k == "Features"):
			for _, f := range strings.Fields(v) {
				switch f {
				case "sha_ni", "avx2", "avx512f", "sha2", "asimd":
					flags = append(flags, f)
				}
			}
			if flags == nil {
				flags = []string{}
			}
		}
	}
	if model == "" {
		model = runtime.GOARCH
	}
	if len(flags) > 0 {
		model += " (" + strings.Join(flags, " ") + ")"
	}
	return model
}

// memAvailable is the kernel's estimate of memory available without swapping
// (MemAvailable in /proc/meminfo), or -1 where that is unknown.
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// loadAverage is the one-minute load average from /proc/loadavg, or -1.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, _, _ := strings.Cut(string(data), " ")
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return -1
	}
	return v
}
