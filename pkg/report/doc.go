// Package report is how results are written for people and scripts: text
// lines, tables and JSON. The commands (pkg/cli) call an application and
// hand what it returns to a function here, which writes it; so what a
// user reads can be tested without a command tree.
//
// No cobra: it may use pkg/term's streams and styles, and the result types
// of the applications it renders (check, linkcheck, feeds, network,
// server); no application imports it. Every string that comes from
// outside the machine (a file name, a feed's field, a server's text) goes
// through term.SafeText before it is printed.
package report
