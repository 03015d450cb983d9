// Package feeds reads published threat-intelligence feeds (the MalwareBazaar
// CSV export, ClamAV hash databases, known-good digest lists) and turns each
// entry into a reputation.FileIndicator.
//
// Feeds are large, hand-edited or truncated in transit, so a bad line never
// fails an import: Parse counts it, remembers the first few for the user and
// carries on. Only I/O errors and the caller's own errors stop it.
//
// It may import checksum, reputation, urlcanon and store (the importer it
// fills); never cobra, lipgloss, term or the network.
package feeds
