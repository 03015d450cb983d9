package store

import (
	"fmt"
	"math"
)

// URLClass is the scan-time class of link records.
const URLClass = "url"

// SizeClasses are the scan-time classes of file records, smallest first.
var SizeClasses = []string{"<64KiB", "<1MiB", "<16MiB", "<256MiB", ">=256MiB"}

// SizeClass returns the scan-time class of a file of size bytes.
func SizeClass(size int64) string {
	switch {
	case size < 64<<10:
		return SizeClasses[0]
	case size < 1<<20:
		return SizeClasses[1]
	case size < 16<<20:
		return SizeClasses[2]
	case size < 256<<20:
		return SizeClasses[3]
	}
	return SizeClasses[4]
}

// The scan-time histogram: bucket 0 holds times under bucketBaseMS;
// bucket b > 0 starts at bucketBaseMS × 2^((b-1)/bucketsPerOctave). The
// last bucket also holds everything beyond it (over 12 days).
const (
	bucketBaseMS     = 0.001
	bucketsPerOctave = 4
	maxBucket        = 1 + 40*bucketsPerOctave
)

// ScanBucket returns the histogram bucket of a time in milliseconds.
func ScanBucket(ms float64) int {
	if !(ms >= bucketBaseMS) { // also NaN
		return 0
	}
	if ms > bucketStart(maxBucket) { // also +Inf
		return maxBucket
	}
	b := 1 + int(math.Floor(math.Log2(ms/bucketBaseMS)*bucketsPerOctave))
	return min(max(b, 1), maxBucket)
}

// bucketStart is the least time of bucket b > 0.
func bucketStart(b int) float64 {
	return bucketBaseMS * math.Exp2(float64(b-1)/bucketsPerOctave)
}

// bucketValue is the value a percentile falling in bucket b is reported
// as: the geometric middle of the bucket, so within about 9% of any time
// in it; 0 for bucket 0.
func bucketValue(b int) float64 {
	if b == 0 {
		return 0
	}
	return bucketStart(b) * math.Exp2(0.5/bucketsPerOctave)
}

// OSVersionClass cuts an OS version to its first two numbers ("6.8.0-45-
// generic" → "6.8", "23.4.0" → "23.4", "10" → "10"); "" is "unknown", and
// a version that does not start with a number is "other".
func OSVersionClass(v string) string {
	if v == "" {
		return "unknown"
	}
	digits := func(i int) int {
		j := i
		for j < len(v) && j-i < 6 && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		return j
	}
	i := digits(0)
	if i == 0 {
		return "other"
	}
	if i < len(v) && v[i] == '.' {
		if j := digits(i + 1); j > i+1 {
			return v[:j]
		}
	}
	return v[:i]
}

// CPUClass puts a CPU count in a class: "1", "2", "3-4", "5-8", ... up to
// "65+"; 0 (unknown) is "unknown".
func CPUClass(n int) string {
	if n <= 0 {
		return "unknown"
	}
	return powerClass(n, 64)
}

// MemoryClass puts memory in GiB in a class like CPUClass's, up to "257+".
func MemoryClass(gib int) string {
	if gib <= 0 {
		return "unknown"
	}
	return powerClass(gib, 256)
}

// powerClass is the class (2^(k-1), 2^k] of n ≥ 1, written "lo-hi", with
// "1" and "2" on their own and everything above top as "top+1+".
func powerClass(n, top int) string {
	if n > top {
		return fmt.Sprintf("%d+", top+1)
	}
	if n <= 2 {
		return fmt.Sprint(n)
	}
	hi := 4
	for hi < n {
		hi *= 2
	}
	return fmt.Sprintf("%d-%d", hi/2+1, hi)
}
