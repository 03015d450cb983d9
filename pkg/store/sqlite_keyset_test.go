package store

import (
	"testing"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

func TestSmallKeySet(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	keys, ok, err := s.SmallKeySet(ctx, 10)
	if err != nil || !ok {
		t.Fatalf("SmallKeySet of the baseline: %v, %v", ok, err)
	}
	if !keys.MayMatch(FileDigests{checksum.SHA256: eicarSHA256, checksum.BLAKE3: randomDigest(checksum.BLAKE3)}) {
		t.Error("EICAR's SHA-256 is not in the baseline's keys")
	}
	if keys.MayMatch(FileDigests{checksum.SHA256: randomDigest(checksum.SHA256), checksum.BLAKE3: eicarBLAKE3}) {
		t.Error("a random file may match, by a BLAKE3 digest no indicator is keyed by")
	}
	var feed []reputation.FileIndicator
	for range 9 {
		feed = append(feed, reputation.FileIndicator{Algorithm: checksum.MD5, Digest: randomDigest(checksum.MD5), Size: -1, Verdict: reputation.Malicious})
	}
	importAll(t, s, "clamav", feed)
	if _, ok, err := s.SmallKeySet(ctx, 11); err != nil || !ok {
		t.Fatalf("11 indicators, max 11: %v, %v", ok, err)
	}
	if keys, ok, err := s.SmallKeySet(ctx, 10); err != nil || ok || keys != nil {
		t.Fatalf("11 indicators, max 10: %v, %v, %v; want not small", keys, ok, err)
	}
	keys, _, _ = s.SmallKeySet(ctx, 100)
	if !keys.MayMatch(FileDigests{checksum.MD5: feed[3].Digest}) {
		t.Error("an imported MD5 is not in the keys")
	}
}
