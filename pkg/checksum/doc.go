// Package checksum computes several digests of many files in one read each:
// files are hashed in parallel, a large file feeds its digests concurrently
// from shared buffers, special files are skipped rather than blocking, and
// results come back in input order. A stat cache (StatCache) answers files
// unchanged since they were last hashed without reading them.
//
// It imports only the standard library and zeebo/blake3: no other ksn
// package.
package checksum
