package mail

import (
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

func TestParseReceived(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // addresses, space-separated
	}{
		{"Postfix", "from mail.sender.example (mail.sender.example [8.8.4.4]) by mx.example.org (Postfix) with ESMTPS id 3AbC for <bob@example.org>; Thu, 4 Jan 2024 10:00:02 +0000", "8.8.4.4"},
		{"Postfix, unknown rDNS, HELO an address", "from [1.2.3.4] (unknown [8.8.4.4]) by mx.example.org (Postfix) with ESMTP id 1", "8.8.4.4"},
		{"Gmail", "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n        by mx.google.com with SMTPS id a1sor;\r\n        Thu, 04 Jan 2024 02:00:00 -0800 (PST)", "209.85.220.41"},
		{"Exim without rDNS", "from [8.8.4.4] (helo=laptop) by mail.example.org with esmtpsa (Exim 4.96) id 1q2w", "8.8.4.4"},
		{"Exim with rDNS and a forged HELO", "from host.example ([8.8.4.4] helo=[1.1.1.1]) by mail.example.org with esmtp (Exim 4.96)", "8.8.4.4"},
		{"Exim, HELO an address outside", "from [8.8.4.4] (helo=[1.1.1.1]) by x with esmtp", "8.8.4.4"},
		{"Sendmail", "from host.example (user@rdns.example [8.8.4.4] (may be forged)) by mx.example.org (8.15.2/8.15.2) with ESMTP id x", "8.8.4.4"},
		{"qmail", "from unknown (HELO 1.1.1.1) (8.8.4.4)\n  by mx.example.org with SMTP; 4 Jan 2024 10:00:00 -0000", "8.8.4.4"},
		{"qmail, invoked", "(qmail 12345 invoked from network); 4 Jan 2024 10:00:00 -0000", ""},
		{"Exchange IPv6", "from BN8PR12MB3587.namprd12.prod.outlook.com (2603:10b6:408:43::13) by SN6PR12MB2718.namprd12.prod.outlook.com (2603:10b6:805:6f::11) with Microsoft SMTP Server", "2603:10b6:408:43::13"},
		{"IPv6 literal", "from [IPv6:2001:4860:4860::8888] by mx.example.org with ESMTP", "2001:4860:4860::8888"},
		{"IPv6 literal in a comment", "from relay.example.net (relay.example.net [IPv6:2001:4860:4860::8844]) by mx", "2001:4860:4860::8844"},
		{"IPv4-mapped", "from x (x [IPv6:::ffff:8.8.4.4]) by y", "8.8.4.4"},
		{"a port", "from x (x [8.8.4.4]:54321) by y", "8.8.4.4"},
		{"a bare address", "from 8.8.4.4 by mx.example.org", "8.8.4.4"},
		{"two addresses", "from x (x [8.8.4.4] 8.8.8.8) by y", "8.8.4.4 8.8.8.8"},
		{"the by clause is not the client", "from x (x [8.8.4.4]) by y ([9.9.9.9]) with z", "8.8.4.4"},
		{"local submission", "by mail.example.org (Postfix, from userid 1000) id 5; Thu, 4 Jan 2024", ""},
		{"from userid", "from userid 1000 by host with local", ""},
		{"versions are not addresses", "from x (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) (8.8.4.4) by y", "8.8.4.4"},
		{"a zone", "from x (x [fe80::1%eth0]) by y", "fe80::1%eth0"},
		{"unbalanced", "from x ((([8.8.4.4", "8.8.4.4"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		var got []string
		for _, a := range ParseReceived(tt.value) {
			got = append(got, a.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSenderIPs(t *testing.T) {
	h := mail.Header{"Received": {
		"from mx.own.example (mx.own.example [9.9.9.9]) by inbox.own.example",
		"from relay2 (relay2 [2606:4700::1111]) by mx.own.example",
		"from relay1 (relay1 [8.8.4.4]) by relay2",
		"from laptop (laptop [192.168.1.20]) by relay1",
		"from forged (forged [8.8.4.4]) by laptop",
	}}
	own, err := ParseRelays([]string{"9.9.9.0/24", " 2001:db8::1 "})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range SenderIPs(h, own) {
		got = append(got, a.String())
	}
	if want := "8.8.4.4 2606:4700::1111"; strings.Join(got, " ") != want {
		t.Errorf("SenderIPs = %q, want %q", got, want)
	}
	if _, err := ParseRelays([]string{"mx.own.example"}); err == nil {
		t.Errorf("a host name is not a relay")
	}
	if !own.Contains(netip.MustParseAddr("::ffff:9.9.9.200")) || own.Contains(netip.MustParseAddr("9.9.8.1")) {
		t.Errorf("Relays.Contains")
	}
	many := mail.Header{}
	for i := range 100 {
		many["Received"] = append(many["Received"], "from x (x [8.8."+strconv.Itoa(i)+".1]) by y")
	}
	if n := len(SenderIPs(many, nil)); n != MaxSenderIPs {
		t.Errorf("%d sender addresses, want at most %d", n, MaxSenderIPs)
	}
}

func TestAuthenticatedSubmission(t *testing.T) {
	for value, want := range map[string]bool{
		"from laptop (unknown [203.0.114.7]) (Authenticated sender: jane@example.org) by smtp.example.org (Postfix) with ESMTPSA id 4XyZ; Sat, 5 Dec 2026 10:00:00 +0000":             true,
		"from [203.0.114.7] (helo=laptop) by smtp.example.org with esmtpsa (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.97) (envelope-from <jane@example.org>) id 1t; Sat, 5 Dec 2026": true,
		"from laptop ([203.0.114.7]) by mail.example.org with ESMTPA; Sat, 5 Dec 2026":                                                                                                true,
		"from relay1 (relay1 [8.8.4.4]) by mx.example.org with ESMTPS id abc":                                                                                                         false,
		"from relay1 (relay1 [8.8.4.4]) by mx.example.org with SMTP id abc":                                                                                                           false,
		"from relay1 (comment with ESMTPSA inside) by mx with SMTP":                                                                                                                   false,
		"from relay1 by mx (with ESMTPSA) id x":                                                                                                                                       false,
		"from relay1 by mx":                                                                                                                                                           false,
	} {
		if got := authenticatedSubmission(value); got != want {
			t.Errorf("authenticatedSubmission(%q) = %v, want %v", value, got, want)
		}
	}
	// The user's own submission hop gives no address; the relays after it do.
	h := mail.Header{"Received": {
		"from smtp.example.org (smtp.example.org [8.8.4.4]) by mx.other.example with ESMTPS id 2",
		"from laptop (unknown [203.0.114.7]) by smtp.example.org (Postfix) with ESMTPSA id 1",
	}}
	if got := SenderIPs(h, Relays{}); len(got) != 1 || got[0].String() != "8.8.4.4" {
		t.Errorf("SenderIPs = %v, want only the relay 8.8.4.4", got)
	}
}
