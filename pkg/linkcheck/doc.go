// Package linkcheck is the link-checking application behind `ksn url`:
// links (arguments, or one a line from a reader) are put in canonical
// form, their Safe Browsing expressions hashed, looked up in batches over
// the reputation sources (the local database by full hashes, a server by
// 4-byte prefixes), combined by the trust rule, and handed to a sink and a
// collector. It knows nothing of cobra, lipgloss or the terminal; it may
// import urlcanon, reputation and exitcode.
package linkcheck
