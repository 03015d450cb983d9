package network

import (
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/linkcheck"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// CollectLinks holds the record of every checked link of a batch.
func (col *Collector) CollectLinks(links []linkcheck.Link) {
	col.add(LinkRecords(links)...)
}

// LinkRecords makes the outbox record of each link that could be checked,
// on a public host: its redacted form, the verdict and the time spent,
// nothing else.
func LinkRecords(links []linkcheck.Link) []participation.Record {
	var recs []participation.Record
	now := time.Now().UTC()
	for _, l := range links {
		// A link of a private network is not the network's business; a
		// redacted link too long to be accepted would block the outbox.
		if l.Err != nil || l.Canonical.Private() {
			continue
		}
		redacted := urlcanon.Redact(l.Canonical)
		if len(redacted) > api.MaxRecordURL {
			continue
		}
		r, err := participation.NewRecord(participation.KindURL, participation.URLObservation{
			URL: redacted, Verdict: string(l.Result.Verdict),
			CheckMS: float64(l.Elapsed.Microseconds()) / 1000,
		}, now)
		if err == nil {
			recs = append(recs, r)
		}
	}
	return recs
}
