// Package statement is the participation statement: the text a user
// accepts to take part in the reputation network, identified by the
// SHA-256 of its exact bytes, and the one built into the binary.
//
// It is shared by the client, which shows the statement and records which
// one was accepted (pkg/participation), and by the server, which serves it
// (pkg/server), so that both compute the same identity from the same text.
// It is a leaf: it imports nothing of ksn, and in particular neither
// pkg/participation nor pkg/server, so that each side can use it without
// depending on the other.
package statement
