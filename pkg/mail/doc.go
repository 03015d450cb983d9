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
//
// # The normalised body
//
// The normalised body of a message, whose SHA-256 is Result.BodySHA256
// and the spam record's body digest (Spam.BodySHA256), is defined so that
// two copies of a message sent to different people, by different servers,
// in different line-ending conventions and transfer encodings, give the
// same digest, while any change a reader could see gives another:
//
//  1. The body texts are the text/plain and text/html parts that are not
//     attachments (no file name, Content-Disposition not "attachment"), at
//     any depth, attached messages' included, in the order they appear.
//  2. Each is decoded from its Content-Transfer-Encoding, then from its
//     charset to UTF-8: utf-8 and us-ascii (and no charset) as they are,
//     with each invalid byte as U+FFFD; iso-8859-1, latin1 and windows-1252
//     (and their other names) as windows-1252, as browsers do. Any other
//     charset is not converted (the standard library has no tables for
//     them): its bytes are taken as they are, only ASCII white space is
//     recognised, and the same text in another charset gives another
//     digest.
//  3. Invisible format characters (Unicode Cf: zero-width spaces and
//     joiners, soft hyphens, bidi controls, byte order marks) are removed.
//  4. Every run of white space (Unicode White_Space, line ends included)
//     becomes one space; white space at the start and end is removed.
//     Case is kept. HTML is taken as its source text, tags included.
//  5. The parts' texts are joined with "\n", which no normalised text
//     contains, so that the parts' boundaries are part of the digest.
//
// A message without a body text has no digest ("").
package mail
