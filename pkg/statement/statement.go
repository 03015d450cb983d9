package statement

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"sync"
)

// BuiltinSource is Statement.Source of the statement built into the binary.
const BuiltinSource = "built-in"

//go:embed statement.txt
var builtinText string

// Statement is a text a user accepts to participate. What was accepted is
// recorded by its ID and SHA256, so a later change of the text is noticed
// (the client pauses participation until the user accepts again). Its
// JSON form is the output of `ksn statement --json`.
type Statement struct {
	// ID is a stable identifier. The built-in one is "ksn-" + the first 16
	// hex chars of SHA256, so it changes whenever the text does.
	ID string `json:"id"`
	// SHA256 is the lower-case hex SHA-256 of Text (its exact bytes), so
	// a provisioning script can pin the text it accepts.
	SHA256 string `json:"sha256"`
	// Source says where the statement came from: "built-in", "server" (as
	// `ksn serve` stores one), or the endpoint URL that served it.
	Source string `json:"source"`
	Text   string `json:"text"`
}

// builtin is computed once: the embedded text never changes while the
// program runs.
var builtin = sync.OnceValue(func() Statement {
	return New("", builtinText, BuiltinSource)
})

// Builtin returns the statement built into the binary, shown when no
// endpoint provides one and served by a server that stores none.
func Builtin() Statement { return builtin() }

// New returns the statement with the given id, text and source, computing
// its SHA256 from text. An empty id is derived from the text as the
// built-in statement's is ("ksn-" + 16 hex chars), so that a statement
// without an id of its own still changes identity when its text changes.
func New(id, text, source string) Statement {
	sum := sha256.Sum256([]byte(text))
	h := hex.EncodeToString(sum[:])
	if id == "" {
		id = "ksn-" + h[:16]
	}
	return Statement{ID: id, SHA256: h, Text: text, Source: source}
}
