// Package exitcode defines ksn's exit codes and the one error type that
// carries them from a command to main.
//
// It imports only the standard library: every other package may use it.
package exitcode
