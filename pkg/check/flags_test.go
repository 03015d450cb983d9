package check

import (
	"slices"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

func TestFlags(t *testing.T) {
	cases := []struct {
		f    Flags
		want []Algorithm // nil: an error
		err  string
	}{
		{Flags{Hash: "blake3,sha256"}, []Algorithm{BLAKE3, SHA256}, ""},
		{Flags{Hash: "sha256", Format: "b3sum"}, []Algorithm{BLAKE3, SHA256}, ""},
		{Flags{Hash: "md5", Null: true, FilesFrom: "-", Workers: MaxWorkers}, []Algorithm{"md5"}, ""},
		{Flags{Hash: "sha256", Format: "md5sum"}, nil, `--format: unknown format "md5sum"`},
		{Flags{Hash: "sha256", Format: "sha256sum", JSON: true}, nil, "--json and --format cannot be used together"},
		{Flags{Hash: "crc32"}, nil, "--hash: "},
		{Flags{Hash: "sha256", Workers: -1}, nil, "--workers: -1 is out of range"},
		{Flags{Hash: "sha256", Workers: MaxWorkers + 1}, nil, "--workers: 257 is out of range"},
		{Flags{Hash: "sha256", Quiet: true, Format: "b3sum"}, nil, "--quiet and --format cannot be used together"},
		{Flags{Hash: "sha256", Null: true}, nil, "-0 only applies to --files-from"},
	}
	for _, c := range cases {
		got, err := c.f.Algorithms()
		if c.want != nil {
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("%+v: %v (%v), want %v", c.f, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) || exitcode.Of(err) != exitcode.Usage {
			t.Errorf("%+v: err %v, want exit 2 with %q", c.f, err, c.err)
		}
	}
}

// TestInputsStdin: "-" reads standard input, unless it holds the list.
func TestInputsStdin(t *testing.T) {
	stdin := strings.NewReader("a\nb\n")
	if _, r, done, err := Inputs([]string{"-"}, "", false, stdin); err != nil || r != stdin {
		t.Errorf("no list: %v, %v", r, err)
	} else {
		done()
	}
	if _, r, done, err := Inputs(nil, "-", false, stdin); err != nil || r != nil {
		t.Errorf("list on stdin: %v, %v", r, err)
	} else {
		done()
	}
	if _, _, _, err := Inputs([]string{"-"}, "-", false, stdin); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("stdin twice: %v", err)
	}
}
