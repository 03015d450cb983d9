package feeds

import (
	"encoding/hex"
	"math/big"
)

// ClamAV signs a container's MD5 with its own scheme (libclamav's dsig.c,
// cli_versig): the signature field is a number written in base 64, least
// significant digit first, with the digits a-z, A-Z, 0-9, + and / for 0
// to 63; raised to the public exponent modulo ClamAV's 1024-bit public
// modulus, it is the MD5 (16 bytes, big-endian). It is textbook RSA
// without padding, over MD5: it tells that ClamAV's key signed this MD5,
// and the MD5 that nobody changed the archive by accident or without
// finding an MD5 collision. ClamAV compares only the low 16 bytes of the
// result; ksn requires the higher ones to be zero too, as a genuine
// signature of a 16-byte value leaves them.

// clamavKey is ClamAV's public key for container signatures, as published
// in libclamav/dsig.c (CLI_NSTR and CLI_ESTR, both decimal).
var clamavKey = cvdKey{
	n: mustBig("118640995551645342603070001658453189751527774412027743746599405743243142607464144767361060640655844749760788890022283424922762488917565551002467771109669598189410434699034532232228621591089508178591428456220796841621637175567590476666928698770143328137383952820383197532047771780196576957695822641224262693037"),
	e: mustBig("100001027"),
}

// cvdKey is an RSA public key in the form the signature check needs.
type cvdKey struct{ n, e *big.Int }

// maxDSig bounds the signature field: a number below a 1024-bit modulus
// needs at most 171 digits of 6 bits; a longer field is not a signature.
const maxDSig = 180

// dsigDigit is the value of one signature character, or -1.
func dsigDigit(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return int(c - 'a')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

// verifyDSig reports whether dsig is key's signature of md5Hex (32
// lower-case hex digits).
func verifyDSig(key cvdKey, md5Hex, dsig string) bool {
	want, err := hex.DecodeString(md5Hex)
	if err != nil || len(want) != 16 || dsig == "" || len(dsig) > maxDSig {
		return false
	}
	c := new(big.Int)
	digit := new(big.Int)
	for i := len(dsig) - 1; i >= 0; i-- {
		d := dsigDigit(dsig[i])
		if d < 0 {
			return false
		}
		c.Lsh(c, 6)
		c.Or(c, digit.SetInt64(int64(d)))
	}
	if c.Sign() == 0 || c.Cmp(key.n) >= 0 {
		return false
	}
	m := new(big.Int).Exp(c, key.e, key.n)
	return m.Cmp(new(big.Int).SetBytes(want)) == 0
}

func mustBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("feeds: bad constant " + s)
	}
	return n
}
