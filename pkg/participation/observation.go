package participation

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// MarshalJSON writes the same JSON encoding/json would (keys in field
// order, digests sorted by algorithm), without reflection: a check of
// 20,000 files makes 20,000 of these, and reflection was a tenth of its
// CPU time.
func (o FileObservation) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+len(o.Digests)*80)
	b = append(b, `{"digests":{`...)
	algs := make([]string, 0, len(o.Digests))
	for a := range o.Digests {
		algs = append(algs, a)
	}
	slices.Sort(algs)
	for i, a := range algs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, a)
		b = append(b, ':')
		b = appendString(b, o.Digests[a])
	}
	b = append(b, `},"size":`...)
	b = strconv.AppendInt(b, o.Size, 10)
	b = append(b, `,"verdict":`...)
	b = appendString(b, o.Verdict)
	b = append(b, `,"hash_ms":`...)
	f, err := json.Marshal(o.HashMS) // the float format encoding/json uses
	if err != nil {
		return nil, err
	}
	b = append(b, f...)
	return append(b, '}'), nil
}

// NewFileRecord is NewRecord for a file observation, without passing the
// body through encoding/json, which re-reads every Marshaler's output to
// check and compact it: a check of 20,000 files makes 20,000 of these.
// Append still validates the body.
func NewFileRecord(o FileObservation, now time.Time) (Record, error) {
	b, err := o.MarshalJSON()
	if err != nil {
		return Record{}, fmt.Errorf("new record: %w", err)
	}
	return newRecord(KindFile, b, now), nil
}

// appendString quotes s as JSON. Digests, algorithm names and verdicts are
// plain ASCII; anything else goes through encoding/json to be safe.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
