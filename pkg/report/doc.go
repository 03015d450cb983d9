// Package report is how results are written for people and scripts: text
// lines, tables and JSON. The commands (pkg/cli) call an application and
// hand what it returns to a function here, which writes it, and often
// decides the exit that goes with it (a threat found, a network that
// cannot be used); so what a user reads can be tested without a command
// tree. A function given asJSON writes, when it is set, the result as one
// line of JSON (the schema the README documents) instead of its text.
//
// No cobra and no lipgloss: it uses pkg/term's streams and styles, and
// the result types of the applications it renders (check, linkcheck,
// feeds, network, server, config, mail, buildinfo); no application
// imports it. Every string that comes from outside the machine (a file
// name, a feed's field, a server's text) goes through term.SafeText
// before it is printed.
package report
