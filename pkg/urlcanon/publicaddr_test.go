package urlcanon

import (
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	public := []string{"8.8.4.4", "1.1.1.1", "9.9.9.9", "100.63.255.255", "100.128.0.0", "2001:4860:4860::8888", "2606:4700::1111", "::ffff:8.8.4.4"}
	private := []string{
		"0.0.0.0", "0.1.2.3", "10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.1.1",
		"100.64.0.1", "100.127.255.255", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.7",
		"224.0.0.1", "239.1.2.3", "240.0.0.1", "255.255.255.255",
		"::", "::1", "fe80::1", "fc00::1", "fd12::1", "ff02::1", "2001:db8::1", "3fff::1", "fec0::1", "64:ff9b::808:404", "100::1",
		"::ffff:10.0.0.1",
	}
	for _, s := range public {
		if !PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s is public", s)
		}
	}
	for _, s := range private {
		if PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s is not public", s)
		}
	}
	if PublicAddr(netip.Addr{}) {
		t.Errorf("the zero Addr is not public")
	}
}
