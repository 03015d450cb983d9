package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestKeysTable(t *testing.T) {
	want := []string{"endpoint", "timeout", "proxy", "insecure_transport", "tls.ca_file", "mail.own_relays", "cache.ttl", "outbox.max_records", "outbox.max_age", "feed.max_age"}
	if len(Keys) != len(want) {
		t.Fatalf("%d keys, want %d", len(Keys), len(want))
	}
	envs := map[string]string{}
	for i, k := range Keys {
		if k.Name != want[i] {
			t.Errorf("Keys[%d] = %s, want %s", i, k.Name, want[i])
		}
		if k.Help == "" || strings.Contains(k.Help, "\n") {
			t.Errorf("%s: help must be one non-empty line: %q", k.Name, k.Help)
		}
		// `ksn config list` prints the default next to the value; they
		// must look the same when nothing is configured.
		v, err := k.parse(k.Default)
		if err != nil || v.text != k.Default {
			t.Errorf("%s: default %q normalises to %q, %v", k.Name, k.Default, v.text, err)
		}
		if got, ok := LookupKey(k.Name); !ok || got != k {
			t.Errorf("LookupKey(%s) = %+v, %v", k.Name, got, ok)
		}
		e := EnvName(k.Name)
		if other, dup := envs[e]; dup {
			t.Errorf("%s and %s share %s", k.Name, other, e)
		}
		envs[e] = k.Name
		// These variables mean something else to ksn.
		if e == "KSN_HOME" || e == "KSN_PARTICIPATION" {
			t.Errorf("%s collides with %s", k.Name, e)
		}
	}
	if _, ok := LookupKey("outbox"); ok {
		t.Error("LookupKey(outbox) found a table")
	}
}

func TestEnvName(t *testing.T) {
	for name, want := range map[string]string{
		"endpoint":                "KSN_ENDPOINT",
		"timeout":                 "KSN_TIMEOUT",
		"cache.ttl":               "KSN_CACHE_TTL",
		"outbox.max_records":      "KSN_OUTBOX_MAX_RECORDS",
		"outbox.max_age":          "KSN_OUTBOX_MAX_AGE",
		"feed.urlhaus-recent.url": "KSN_FEED_URLHAUS_RECENT_URL",
	} {
		if got := EnvName(name); got != want {
			t.Errorf("EnvName(%s) = %s, want %s", name, got, want)
		}
	}
}

func TestGetUnknown(t *testing.T) {
	s := mustLoad(t, testPaths(t), nil)
	for name, hint := range map[string]string{
		"timout":      "did you mean timeout?",
		"max_records": "did you mean outbox.max_records?",
		"Endpoint":    "did you mean endpoint?",
		"colour":      "",
	} {
		_, err := s.Get(name)
		if err == nil {
			t.Fatalf("Get(%s): no error", name)
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("%q", name)) || !strings.Contains(msg, "endpoint, timeout, proxy, insecure_transport, tls.ca_file, mail.own_relays, cache.ttl, outbox.max_records, outbox.max_age") {
			t.Errorf("Get(%s): %v", name, err)
		}
		if hint != "" && !strings.Contains(msg, hint) {
			t.Errorf("Get(%s): %v lacks %q", name, err, hint)
		}
		if hint == "" && strings.Contains(msg, "did you mean") {
			t.Errorf("Get(%s): %v suggests something", name, err)
		}
	}
}
