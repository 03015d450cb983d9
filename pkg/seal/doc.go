// Package seal is the cryptography of the server's retention (DESIGN §6):
// records are sealed with AES-256-GCM under a data key per half-year, and
// data keys are stored only wrapped (sealed in turn) by a key-encryption
// key (KEK) that lives in a file, never in the database. Destroying a
// wrapped data key makes every record sealed under it unreadable
// (crypto-shredding), even in copies of the database.
//
// Sealed bytes are nonce (12 random bytes) || ciphertext || tag (16 bytes).
// The additional data binds a sealed value to where it belongs (a record's
// id and half-year, a data key's half-year), so that a value moved to
// another row does not open.
//
// It is a leaf: the standard library only, nothing of ksn, so that the
// server's storage (pkg/store) and its operator's commands can share it
// without cycles, and so that what protects the records is small enough
// to read in one sitting.
package seal
