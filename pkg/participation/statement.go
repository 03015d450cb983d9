package participation

import "github.com/ksnproject/ksn/pkg/statement"

// builtinSource is Statement.Source of the statement built into the binary.
const builtinSource = statement.BuiltinSource

// Statement is a text a user accepts to participate (see pkg/statement,
// which the server shares). What was accepted is recorded by its ID and
// SHA256, so a later change of the text is noticed (Evaluate pauses
// participation until the user accepts again).
type Statement = statement.Statement

// Builtin returns the statement built into the binary, shown when no
// endpoint provides one.
func Builtin() Statement { return statement.Builtin() }

// NewStatement returns the statement with the given id, text and source,
// computing its SHA256 from text; an empty id is derived from the text
// (see statement.New).
func NewStatement(id, text, source string) Statement { return statement.New(id, text, source) }
