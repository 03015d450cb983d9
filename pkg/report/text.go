package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Plural writes a count with its noun: "1 record", "3 records",
// "2 directories".
func Plural(n int, noun string) string {
	switch {
	case n == 1:
		return fmt.Sprintf("%d %s", n, noun)
	case strings.HasSuffix(noun, "y") && !strings.ContainsAny(noun[max(len(noun)-2, 0):len(noun)-1], "aeiou"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Time is a moment as ksn prints it, in UTC to the second; "-" for the
// zero time.
func Time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// JSONLine writes v as one line of JSON.
func JSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// seenBy says how many participants reported an object.
func seenBy(n int) string {
	if n == 1 {
		return "· seen by 1 participant"
	}
	return fmt.Sprintf("· seen by %d participants", n)
}
