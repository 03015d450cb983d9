package report

import (
	"errors"
	"testing"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/term"
)

func TestFailure(t *testing.T) {
	offline := &exitcode.Error{Code: exitcode.Offline, Err: errors.New("cannot reach\x1b[2J ksn.example"), Hint: "check the network"}
	cases := []struct {
		name   string
		err    error
		json   bool
		code   int
		errOut string
	}{
		{"text", offline, false, 4, "ksn: cannot reach\\x1b[2J ksn.example\nksn: hint: check the network\n"},
		{"json", offline, true, 4, `{"error":{"code":"offline","exit_code":4,"message":"cannot reach\\x1b[2J ksn.example","hint":"check the network"}}` + "\n"},
		{"silent", exitcode.Silent(exitcode.Threat), false, 1, ""},
		{"plain error", errors.New("boom"), false, 2, "ksn: boom\n"},
		{"usage without hint, json", exitcode.New(exitcode.Usage, "bad"), true, 2, `{"error":{"code":"usage","exit_code":2,"message":"bad"}}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, errOut := term.Test()
			if code := Failure(ios, c.err, c.json); code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			if errOut.String() != c.errOut || out.Len() > 0 {
				t.Errorf("errOut %q, want %q (out %q)", errOut, c.errOut, out)
			}
		})
	}
}
