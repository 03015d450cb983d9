package network

import (
	"fmt"
	"time"
)

// The sentences `ksn optin` says about the records collected before: they
// describe what Accept does with them, so they are kept beside it.

// BacklogSentence tells, before the user answers, what accepting sends
// of the records collected so far (Accept does it).
func BacklogSentence(stats OutboxStats, level Level, maxAge time.Duration, endpoint string, now time.Time) string {
	switch {
	case stats.Records == 0:
		return "No records were collected on this machine before; nothing is waiting to be sent."
	case level == Basic:
		return fmt.Sprintf("%s collected on this machine stay local: the basic level sends lookups only.", plural(stats.Records, "record"))
	}
	s := fmt.Sprintf("If you accept, the %s collected on this machine since %s will be sent", plural(int(stats.Records), "record"), formatTime(stats.Oldest))
	if endpoint == "" {
		s += " once an endpoint is set"
	}
	if maxAge > 0 && stats.Oldest.Before(now.Add(-maxAge)) {
		s += fmt.Sprintf(", except those older than %s, which are dropped instead", formatAge(maxAge))
	}
	return s + "."
}

// formatAge writes a max_age setting the way users set it: "90d", "36h".
func formatAge(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// AfterOptinSentence tells, once accepted, what happens to the records
// left in the outbox.
func AfterOptinSentence(records int, level Level, endpoint string) string {
	switch {
	case records == 0:
		return "Nothing is waiting to be sent."
	case level == Basic:
		return fmt.Sprintf("%d collected records stay local (basic level); 'ksn queue clear' deletes them.", records)
	case endpoint == "":
		return fmt.Sprintf("%s in the outbox will be sent once an endpoint is set ('ksn config set endpoint URL').", plural(records, "record"))
	}
	return fmt.Sprintf("%s in the outbox will be sent to %s.", plural(records, "record"), endpoint)
}

// plural writes a count with its noun: "1 record", "3 records".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
