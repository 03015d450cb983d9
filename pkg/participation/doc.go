// Package participation is ksn's voluntary participation in the reputation
// network: the consent state and the statement a user accepts, and the
// local outbox of records that would be sent.
//
// While a user does not participate, nothing leaves the machine; what would
// have been sent is kept in the outbox and sent once they opt in. Every
// consent decision is kept, append-only, in participation.db in ksn's state
// directory, next to the outbox. The package knows nothing of the command
// line and sends nothing itself.
//
// The pieces:
//
//   - Statement, Builtin: the text a user accepts, identified by its
//     SHA-256, so that a changed text is noticed.
//   - Store (Open): participation.db, with the decisions (Store.Record, Latest,
//     Decisions; the table refuses UPDATE and DELETE) and the outbox
//     (Append, Records, Stats, Clear, DropOlderThan, Delete), stored a few
//     thousand records per row (outbox_chunks.go), oldest first. Append
//     does not look for duplicate record IDs: they are 128 random bits,
//     and the server ignores an ID it has seen.
//   - Evaluate: the effective participation from the latest decision, the
//     environment (which can only narrow it) and the statement in force;
//     Unavailable when the state cannot be read.
//   - Record, NewRecord, FileObservation, SystemInfo: what the outbox holds.
package participation
