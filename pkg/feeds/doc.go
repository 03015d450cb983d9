// Package feeds reads published threat-intelligence feeds (the MalwareBazaar
// CSV export, ClamAV hash databases and their signed containers, known-good
// digest lists, URLhaus's CSV dumps and host file, lists of links) and
// imports them into a reputation database, each all or nothing; and it
// keeps the configured feeds fresh (`ksn feed update`): the feeds'
// settings (`ksn feed add`, `remove`), conditional downloads, the state of
// each feed, and how old the feeds are (`ksn feed list`, `ksn status`, the
// notice after a check).
//
// Feeds are large, hand-edited or truncated in transit, so a bad line never
// fails an import: Parse counts it, remembers the first few for the user and
// carries on. Only I/O errors and the caller's own errors stop it. A
// download that fails or is cut short, or a container whose MD5 is not the
// one its header states, imports nothing.
//
// It may import checksum, config, exitcode, reputation, urlcanon and store
// (the importer it fills), and net/http for downloads through a client the
// caller builds; never cobra, lipgloss, term, client or network: a feed
// update sends nothing about the user's files.
package feeds
