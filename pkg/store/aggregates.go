package store

import "time"

// ObjectStat is the aggregate of one reported object.
type ObjectStat struct {
	Kind   string // ObjectFile or ObjectURL
	Object []byte // file: SHA-256 digest; url: SHA-256 of "host/path"
	// Participants counts distinct participants per half-year, summed over
	// half-years.
	Participants int64
	Reports      int64     // records received
	FirstSeen    time.Time // the UTC day (00:00) it was first received
	LastSeen     time.Time // the UTC day it was last received
}

// DailyCount is the number of records of one kind received on one UTC day.
type DailyCount struct {
	Day     string // YYYY-MM-DD
	Kind    string
	Records int64
}

// ScanTimeStat summarises the time spent hashing and checking objects of one
// class (SizeClasses, URLClass). Percentiles come from the histogram and
// are within about 9% of the exact value.
type ScanTimeStat struct {
	Class               string
	Records             int64
	MeanMS              float64
	P50MS, P90MS, P99MS float64
	Buckets             map[int]int64 // the histogram (ScanBucket)
}

// SystemCount counts system records of one configuration, in the classes
// the aggregates keep (OSVersionClass, CPUClass, MemoryClass).
type SystemCount struct {
	OS, Arch, OSVersion, KSNVersion, CPUs, Memory string
	Records                                       int64
}

// Aggregates are the statistics kept of every submission: what `ksn admin
// stats` shows. They hold no record, no participant code and no license.
type Aggregates struct {
	Kinds      map[string]int64 // records received per kind, ever
	Objects    map[string]int64 // distinct objects per kind
	Daily      []DailyCount     // the last days, newest first
	ScanTime   []ScanTimeStat   // in class order
	Systems    []SystemCount    // most records first
	TopObjects []ObjectStat     // most participants first
}

// AggregateOptions bound what Aggregates returns.
type AggregateOptions struct {
	Days int // daily counts of at most this many days (the latest); 0: all
	Top  int // at most this many top objects; 0: none
}
