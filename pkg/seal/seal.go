package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the size of every key: 32 bytes, AES-256.
const KeySize = 32

// NonceSize is the size of the random nonce that starts a sealed value.
const NonceSize = 12

// Overhead is how much longer a sealed value is than its plaintext.
const Overhead = NonceSize + 16

// ErrOpen reports a sealed value that does not open: the wrong key, the
// wrong additional data, or bytes that were changed. AES-GCM cannot tell
// these apart, and neither can this package.
var ErrOpen = errors.New("sealed data does not open (wrong key, wrong context, or altered)")

// Key is a 256-bit key: a KEK or a data key.
type Key [KeySize]byte

// NewKey returns a random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("new key: %w", err)
	}
	return k, nil
}

// Sealer seals and opens values under one key. It is safe for concurrent
// use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns the Sealer of k.
func NewSealer(k Key) *Sealer {
	block, err := aes.NewCipher(k[:])
	if err != nil { // cannot happen: the key has a valid size
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil { // cannot happen: AES has a 16-byte block
		panic(err)
	}
	return &Sealer{aead: aead}
}

// Seal encrypts and authenticates plaintext, binding it to aad, with a
// fresh random nonce. The result is appended to dst.
func (s *Sealer) Seal(dst, aad, plaintext []byte) ([]byte, error) {
	var nonce [NonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return s.SealWithNonce(dst, nonce, aad, plaintext), nil
}

// SealWithNonce is Seal with a nonce the caller read from crypto/rand
// (say, many at once for a batch). A nonce must never be used twice with
// one key: with random 96-bit nonces, a key may seal about 2^32 values.
func (s *Sealer) SealWithNonce(dst []byte, nonce [NonceSize]byte, aad, plaintext []byte) []byte {
	dst = append(dst, nonce[:]...)
	return s.aead.Seal(dst, nonce[:], plaintext, aad)
}

// Open checks and decrypts a value Seal made with the same key and aad.
func (s *Sealer) Open(aad, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrOpen
	}
	pt, err := s.aead.Open(nil, sealed[:NonceSize], sealed[NonceSize:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// wrapContext is the additional data of a wrapped data key, before its
// label: a data key wrapped for one half-year does not unwrap as another's.
const wrapContext = "ksn-data-key-v1:"

// Wrap seals a data key under the KEK kek for the half-year label.
func Wrap(kek Key, label string, dataKey Key) ([]byte, error) {
	return NewSealer(kek).Seal(nil, []byte(wrapContext+label), dataKey[:])
}

// Unwrap opens a data key that Wrap sealed for label.
func Unwrap(kek Key, label string, wrapped []byte) (Key, error) {
	pt, err := NewSealer(kek).Open([]byte(wrapContext+label), wrapped)
	if err != nil || len(pt) != KeySize {
		return Key{}, fmt.Errorf("unwrap the data key of %s: %w", label, ErrOpen)
	}
	return Key(pt), nil
}

// checkContext is what the check value of a KEK authenticates.
const checkContext = "ksn-kek-check-v1"

// CheckValue returns the lower-case hex HMAC-SHA256 of a fixed text under
// kek. A database stores it to recognise the KEK its data keys are wrapped
// by, without holding anything that helps to find the KEK. Its first 16
// characters are the KEK's fingerprint, for messages.
func CheckValue(kek Key) string {
	m := hmac.New(sha256.New, kek[:])
	m.Write([]byte(checkContext))
	return hex.EncodeToString(m.Sum(nil))
}

// Fingerprint is the short form of a check value that messages show.
func Fingerprint(check string) string {
	if len(check) > 16 {
		return check[:16]
	}
	return check
}

// Derive returns a key for one purpose from k (HMAC-SHA256 of purpose
// under k): distinct purposes give independent keys.
func Derive(k Key, purpose string) Key {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(purpose))
	return Key(m.Sum(nil))
}
