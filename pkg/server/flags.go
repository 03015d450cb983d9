package server

import (
	"time"

	"github.com/ksnproject/ksn/pkg/config"
)

// The checks of what an operator gives `ksn serve` and `ksn admin purge`,
// as usage errors that name the flag: a server refuses to start with a
// value it cannot use rather than guess.

// CheckFlags refuses options a server cannot start with, and sets
// PurgeGrace from grace (--purge-grace: a duration such as 7d).
func (o *RunOptions) CheckFlags(grace string) error {
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return usage("give both --tls-cert and --tls-key, or neither", "--tls-cert and --tls-key go together")
	}
	if o.Rate < 0 || o.Burst < 0 || o.SubmitRate < 0 || o.SubmitBurst < 0 || o.Replicas < 0 {
		return usage("", "--rate, --burst, --submit-rate, --submit-burst and --replicas must be positive")
	}
	var err error
	if o.PurgeGrace, err = ParseGrace("--purge-grace", grace); err != nil {
		return err
	}
	if o.MaxConnections < 1 {
		return usage("e.g. --max-connections 1024", "--max-connections: %d is not a count", o.MaxConnections)
	}
	return CheckMinPrevalence(o.MinPrevalence)
}

// ParseGrace parses how long after its end a half-year is purged, given
// with flag: a duration of 0 or more.
func ParseGrace(flag, value string) (time.Duration, error) {
	d, err := config.ParseDuration(value)
	if err != nil || d < 0 {
		return 0, usage("e.g. "+flag+" 7d", "%s: not a duration of 0 or more: %q", flag, value)
	}
	return d, nil
}

// CheckMinPrevalence refuses a --min-prevalence that is no count.
func CheckMinPrevalence(n int) error {
	if n < 0 {
		return usage("e.g. --min-prevalence 3", "--min-prevalence: %d is not a count", n)
	}
	return nil
}
