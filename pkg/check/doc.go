// Package check is the file-checking application behind `ksn check`:
// inputs (paths, directories, lists, standard input) go through the
// checksum engine, their digests are looked up in batches over the
// reputation sources, the answers are combined by the trust rule
// (reputation.Combine), and each result goes to a sink (the command's
// reporter) and to a collector (the participation outbox) before a
// summary ends the run. With a stat cache, files unchanged since they
// were last hashed are not read, but are looked up like the others.
//
// It knows nothing of cobra, lipgloss or the terminal, of how a source
// reaches its data, or of participation: sources, sink and collector are
// interfaces that the command wires. It may import checksum, reputation
// and exitcode, and nothing that talks to a network or a database.
package check
