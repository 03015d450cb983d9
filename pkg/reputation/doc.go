// Package reputation holds what ksn says about an object: verdicts, the
// indicators that feeds and overrides contribute, and how several sources
// combine into one result.
//
// It may import checksum and urlcanon only: it is the vocabulary every other
// package speaks.
package reputation
