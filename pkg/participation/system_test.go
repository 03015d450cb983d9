package participation

import (
	"encoding/json"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCurrentSystem(t *testing.T) {
	si := CurrentSystem("1.2.3")
	if si.OS != runtime.GOOS || si.Arch != runtime.GOARCH || si.CPUs != runtime.NumCPU() || si.KSNVersion != "1.2.3" {
		t.Errorf("CurrentSystem = %+v", si)
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		if si.OSVersion == "" || si.MemoryGiB < 1 {
			t.Errorf("CurrentSystem on %s lacks the kernel release or the memory: %+v", runtime.GOOS, si)
		}
	}
	if runtime.GOOS == "linux" {
		b, err := os.ReadFile("/proc/sys/kernel/osrelease")
		if err != nil {
			t.Fatal(err)
		}
		if want := sanitizeRelease(string(b)); si.OSVersion != want || want == "" {
			t.Errorf("OSVersion %q, kernel release %q", si.OSVersion, b)
		}
	}

	// Nothing that names this machine or its user.
	b, err := json.Marshal(si)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.ToLower(string(b))
	var private []string
	if h, err := os.Hostname(); err == nil {
		private = append(private, h)
	}
	if u, err := user.Current(); err == nil {
		private = append(private, u.Username, u.HomeDir)
	}
	if wd, err := os.Getwd(); err == nil {
		private = append(private, filepath.Base(wd))
	}
	for _, p := range private {
		// Short values (a host called "a") would match by chance.
		if len(p) >= 4 && strings.Contains(body, strings.ToLower(p)) {
			t.Errorf("the system record %s contains %q", b, p)
		}
	}
	if strings.Contains(body, "/") || strings.Contains(body, `\\`) {
		t.Errorf("the system record %s contains a path", b)
	}
}

func TestSystemInfoJSON(t *testing.T) {
	b, err := json.Marshal(SystemInfo{OS: "linux", OSVersion: "6.1.0", Arch: "amd64", CPUs: 8, MemoryGiB: 16, KSNVersion: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"os":"linux","os_version":"6.1.0","arch":"amd64","cpus":8,"memory_gib":16,"ksn_version":"0.1.0"}`
	if string(b) != want {
		t.Errorf("SystemInfo JSON = %s, want %s", b, want)
	}
}

func TestRoundGiB(t *testing.T) {
	const gib = 1 << 30
	for in, want := range map[uint64]int{
		0:                0,
		1:                1, // some memory is not "unknown"
		gib / 3:          1,
		gib:              1,
		gib + gib/2 - 1:  1,
		gib + gib/2:      2,
		16*gib - 300<<20: 16, // what a 16 GiB machine reports, less the firmware's share
		16 * gib:         16,
		64*gib + 1:       64,
	} {
		if got := roundGiB(in); got != want {
			t.Errorf("roundGiB(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestSanitizeRelease(t *testing.T) {
	for in, want := range map[string]string{
		"6.8.0-45-generic\n":                   "6.8.0",
		"23.4.0":                               "23.4.0",
		"5.15.153.1-microsoft-standard-WSL2\n": "5.15.153.1",
		"6.1.0+rpt-rpi-v8":                     "6.1.0",
		"6.18.44-fc-v1045":                     "6.18.44",
		"6.1.0 built by alice@laptop":          "6.1.0",
		"6.1.0.2.7":                            "6.1.0.2",
		"6.":                                   "6",
		"v6.1":                                 "",
		"":                                     "",
		strings.Repeat("9", 100):               strings.Repeat("9", 8),
	} {
		if got := sanitizeRelease(in); got != want {
			t.Errorf("sanitizeRelease(%q) = %q, want %q", in, got, want)
		}
	}
}
