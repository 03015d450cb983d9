package report

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/ksnproject/ksn/pkg/untrusted"
)

// failureJSON is what a command run with --json prints on standard error
// when it fails (README, "Errors in JSON").
type failureJSON struct {
	Error failureBody `json:"error"`
}

type failureBody struct {
	Code     string `json:"code"` // e.g. "usage", "offline", "rate-limited"
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

// Failure prints the error a command ended with on standard error and
// returns its exit code: as "ksn: what: why" and a hint line, or, for a
// command asked for --json (asJSON), as one JSON object with a
// machine-readable code. A silent error (its output already said it)
// prints nothing.
func Failure(ios *term.IOStreams, err error, asJSON bool) int {
	var e *exitcode.Error
	errors.As(err, &e)
	code := exitcode.Of(err)
	hint := ""
	if e != nil {
		hint = e.Hint
	}
	switch {
	case e != nil && e.Silent:
	case asJSON:
		b, _ := json.Marshal(failureJSON{Error: failureBody{Code: exitcode.Name(code), ExitCode: int(code),
			Message: untrusted.Text(err.Error(), 0), Hint: hint}})
		fmt.Fprintf(ios.ErrOut, "%s\n", b)
	default:
		ios.Errorf("%v", err)
		ios.Hint(hint)
	}
	return int(code)
}
