package store

import (
	"encoding/hex"
	"time"
)

// The JSON forms of the types in this file are the "aggregates" of `ksn
// admin stats --json`, a documented schema: change them only by adding.

// ObjectStat is the aggregate of one reported object.
type ObjectStat struct {
	Kind   string    `json:"kind"`   // ObjectFile, ObjectURL, ObjectSpamBody or ObjectSpamNet
	Object HexDigest `json:"object"` // file: SHA-256 digest; url: SHA-256 of "host/path"
	// Participants counts distinct participants per half-year, summed over
	// half-years.
	Participants int64     `json:"participants"`
	Reports      int64     `json:"reports"`    // records received
	FirstSeen    time.Time `json:"first_seen"` // the UTC day (00:00) it was first received
	LastSeen     time.Time `json:"last_seen"`  // the UTC day it was last received
}

// HexDigest is a digest that JSON spells in lower-case hex, as ksn prints
// digests everywhere else, rather than encoding/json's base64.
type HexDigest []byte

// MarshalText spells the digest in lower-case hex.
func (d HexDigest) MarshalText() ([]byte, error) {
	return hex.AppendEncode(nil, d), nil
}

// UnmarshalText reads a digest spelt in hex.
func (d *HexDigest) UnmarshalText(b []byte) error {
	out, err := hex.AppendDecode(nil, b)
	*d = out
	return err
}

// DailyCount is the number of records of one kind received on one UTC day.
type DailyCount struct {
	Day     string `json:"day"` // YYYY-MM-DD
	Kind    string `json:"kind"`
	Records int64  `json:"records"`
}

// ScanTimeStat summarises the time spent hashing and checking objects of one
// class (SizeClasses, URLClass). Percentiles come from the histogram and
// are within about 9% of the exact value.
type ScanTimeStat struct {
	Class   string        `json:"class"`
	Records int64         `json:"records"`
	MeanMS  float64       `json:"mean_ms"`
	P50MS   float64       `json:"p50_ms"`
	P90MS   float64       `json:"p90_ms"`
	P99MS   float64       `json:"p99_ms"`
	Buckets map[int]int64 `json:"-"` // the histogram (ScanBucket)
}

// SystemCount counts system records of one configuration, in the classes
// the aggregates keep (OSVersionClass, CPUClass, MemoryClass).
type SystemCount struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	OSVersion  string `json:"os_version"`
	KSNVersion string `json:"ksn_version"`
	CPUs       string `json:"cpus"`
	Memory     string `json:"memory_gib"`
	Records    int64  `json:"records"`
}

// Aggregates are the statistics kept of every submission: what `ksn admin
// stats` shows. They hold no record, no participant code and no license.
type Aggregates struct {
	Kinds      map[string]int64 `json:"records"`     // records received per kind, ever
	Objects    map[string]int64 `json:"objects"`     // distinct objects per kind
	Daily      []DailyCount     `json:"daily"`       // the last days, newest first
	ScanTime   []ScanTimeStat   `json:"scan_time"`   // in class order
	Systems    []SystemCount    `json:"systems"`     // most records first
	TopObjects []ObjectStat     `json:"top_objects"` // most participants first
}

// AggregateOptions bound what Aggregates returns.
type AggregateOptions struct {
	Days int // daily counts of at most this many days (the latest); 0: all
	Top  int // at most this many top objects; 0: none
}
