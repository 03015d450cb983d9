package urlcanon

import "net/netip"

// nonPublic are the ranges besides those netip.Addr's methods name
// (private, loopback, link-local, multicast, unspecified) that are no
// host's public address.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation (TEST-NET-1)
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/8",            // reserved: IPv4-compatible, NAT64 (embeds another address)
		"100::/64",        // discard-only
		"2001:db8::/32",   // documentation
		"3fff::/20",       // documentation (RFC 9637)
		"fec0::/10",       // site-local, deprecated
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// PublicAddr reports whether a is a public unicast address: not
// unspecified, loopback, private (RFC 1918, fc00::/7), link-local,
// multicast, carrier-grade NAT, documentation, benchmarking or reserved.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() ||
		a.IsLinkLocalUnicast() || a.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a.WithZone("")) {
			return false
		}
	}
	return true
}
