// Package api holds the wire types of ksn's reputation API (/v1), shared by
// the server (pkg/server) and the client (pkg/client), so that the two can
// never disagree about a field. JSON over HTTP; errors are RFC 9457
// application/problem+json documents with a machine-readable Type.
//
// It holds types, constants and the problem documents' vocabulary, no
// behaviour: it imports the standard library only, never pkg/server,
// pkg/client or anything either side is built from, so that both sides
// can import it and nothing else of each other.
package api
