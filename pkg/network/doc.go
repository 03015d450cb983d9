// Package network is the participant's use of the reputation network, in
// one place: what the user consented to (read before every request), the
// client built from the settings and the license key, the waits a server
// asked for (remembered across runs), the sources a check may ask (the
// server, and the public services the user enabled with their keys, with
// what earlier runs learnt of them: a spent quota, a refused key), the
// records collected for the outbox and their delivery, the report that
// `ksn status` prints (with the connection diagnosis, and the feeds' age
// from pkg/feeds), and the opt-in and opt-out that record decisions. The check, link, status and optin commands all go
// through it.
//
// Nothing here prints: messages go through the Messages interface the
// command passes in. It must not import cobra, lipgloss, term or cli.
package network

import (
	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/participation"
)

// Messages receives what a command tells the user on standard error.
// *term.IOStreams implements it.
type Messages interface {
	// Warnf says that something went wrong and the run went on.
	Warnf(format string, args ...any)
	// Errorf says something the user should know, as "ksn: ..." (notices).
	Errorf(format string, args ...any)
}

// The participation types commands render, so that they need not import
// pkg/participation.
type (
	// Status is the effective participation (participation.Status).
	Status = participation.Status
	// Decision is one recorded decision (participation.Decision).
	Decision = participation.Decision
	// Level is basic or extended participation.
	Level = participation.Level
	// Statement is a statement with its id and SHA-256.
	Statement = participation.Statement
	// OutboxStats summarise the local outbox.
	OutboxStats = participation.OutboxStats
)

// Record is one collected record, exactly as it is sent (and as `ksn queue
// show --json` prints it).
type Record = api.Record

// The levels of participation.
const (
	Basic    = participation.Basic
	Extended = participation.Extended
)

// ParseLevel parses "basic" or "extended".
func ParseLevel(s string) (Level, error) { return participation.ParseLevel(s) }
