// Package term is the one place that knows about the terminal: which
// streams are terminals, whether colour is on, how things are styled, and
// the progress line. Other packages write plain data; commands render it
// through here.
//
// It is the only package besides cli that may import lipgloss or a terminal
// library, and it imports no ksn package.
package term
