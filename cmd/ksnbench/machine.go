package main

import (
	"os"
	"runtime"
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
