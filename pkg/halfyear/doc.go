// Package halfyear names the UTC half-years that ksn's retention is built
// on: the server seals what participants send under one key per half-year
// and destroys that key when the half-year is over, and a participant's
// code changes with the half-year (DESIGN §6).
//
// It is a leaf: the standard library only, nothing of ksn, so that the
// client (participant codes) and the server (keys and purges) agree on
// one definition without depending on each other.
package halfyear
