// Package mail reads e-mail the way ksn checks it: one message file (.eml)
// or an mbox of many, each message's MIME tree walked so that every
// attachment and every picture can be checked as an object of its own, the
// text bodies reduced to a digest and a list of links, and the spam
// statistics a participant at the extended level submits built from them.
//
// Everything here is streamed. An mbox is split into messages without
// holding a message whole (Mbox), a message's parts are handed to a
// callback as readers of their decoded bytes (Message.Walk), and the text
// bodies are normalised and scanned for links as they pass: a 1 GiB mbox is
// walked in a few MiB. Mail comes from strangers, so every size has a bound
// (Limits), every name is sanitised before anyone prints it, and what is
// wrong with a message is a value (a *Error in Result.Problems) that names
// the part and the reason; the rest of the message, and of the mbox, is
// still read.
//
// The pieces:
//
//   - Detect: is a file a message, an mbox or neither, by name and content.
//   - Mbox (NewMbox, Next): the messages of an mbox, numbered from 1.
//   - ReadMessage, Message.Walk: a message's header (bounded), then its
//     parts: Part to the callback, Result afterwards.
//   - ParseReceived, SenderIPs, PublicAddr, Relays: the public addresses a
//     message came from, according to its Received headers.
//   - Spam, Observe, Spam.Report, ParseSpam: the "spam" record's body.
//   - Join, MboxName: the names ksn shows (archive.mbox › #2 <id@host> › invoice.zip).
//
// It imports only the standard library, pkg/urlcanon and pkg/untrusted, so
// that the check pipeline, the mail commands and the server can all use it.
package mail
