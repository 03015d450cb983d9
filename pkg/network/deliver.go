package network

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/urlcanon"
	"golang.org/x/time/rate"
)

// outbox is the part of the participation store that delivery uses.
type outbox interface {
	Records(ctx context.Context, fn func(participation.Record) error) error
	Delete(ctx context.Context, ids []string) error
	// Participant is the installation's code for the half-year of now.
	Participant(ctx context.Context, now time.Time) (string, error)
}

// errChunkFull stops a Records walk once a batch is gathered.
var errChunkFull = errors.New("chunk full")

// deliverOutbox sends the outbox in batches and deletes each batch once the
// server has accepted it. Once the client knows the server's limits
// (Status), batches are sized and spaced to the license's submission
// budget, so that a backlog larger than the budget's burst goes through
// at the budget's rate rather than into 429. Delivery is at least once: a crash between the
// send and the delete resends the batch next time, and the server ignores
// the ids it has seen, so nothing is lost or counted twice. permit, when
// not nil, is asked before every batch and stops delivery with its error.
func deliverOutbox(ctx context.Context, cl *client.Client, store outbox, permit func(context.Context) error) (sent int, err error) {
	pace, size := submitPacing(cl)
	for {
		if permit != nil {
			if err := permit(ctx); err != nil {
				return sent, err
			}
		}
		var batch []api.Record
		var stale []string
		err := store.Records(ctx, func(r participation.Record) error {
			if !submittable(r) {
				stale = append(stale, r.ID)
				return nil
			}
			batch = append(batch, wireRecord(r))
			if len(batch) == size {
				return errChunkFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errChunkFull) {
			return sent, err
		}
		if len(stale) > 0 {
			if err := store.Delete(ctx, stale); err != nil {
				return sent, err
			}
		}
		if len(batch) == 0 {
			return sent, nil
		}
		if pace != nil {
			if err := paceWait(ctx, pace, len(batch)); err != nil {
				return sent, err
			}
		}
		participant, err := store.Participant(ctx, time.Now())
		if err != nil {
			return sent, err
		}
		if _, err := cl.Submit(ctx, participant, batch); err != nil {
			return sent, err
		}
		ids := make([]string, len(batch))
		for i, r := range batch {
			ids[i] = r.ID
		}
		if err := store.Delete(ctx, ids); err != nil {
			return sent, err
		}
		sent += len(batch)
	}
}

// maxPaceWait is the longest a delivery waits for its budget by itself.
// A longer wait (a license allowed a trickle) is the server's to announce:
// the batch goes, and a 429 ends the delivery with the wait remembered,
// as any refusal does.
const maxPaceWait = 30 * time.Second

// paceWait waits until n records fit the budget, or not at all when that
// would take longer than maxPaceWait.
func paceWait(ctx context.Context, pace *rate.Limiter, n int) error {
	r := pace.ReserveN(time.Now(), n)
	d := r.Delay()
	if !r.OK() || d > maxPaceWait {
		r.Cancel()
		return nil
	}
	select {
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// submitPacing returns a token bucket like the license's submission bucket
// on the server, and the batch size that fits in it; nil (and
// api.MaxBatch) while the limits are unknown. The client's bucket runs a
// little behind the server's (5% slower, batches of at most half the
// burst): the server charges a batch when it has read it, later than the
// client sent it, and must find the tokens there.
func submitPacing(cl *client.Client) (*rate.Limiter, int) {
	lim, ok := cl.Limits()
	if !ok {
		return nil, api.MaxBatch
	}
	perSec, burst := lim.SubmitPerSecond, lim.SubmitBurst
	if perSec <= 0 || burst <= 0 {
		perSec, burst = lim.ItemsPerSecond, lim.Burst
	}
	if perSec <= 0 || burst <= 0 {
		return nil, api.MaxBatch
	}
	size := max(1, min(api.MaxBatch, burst/2))
	if lim.MaxBatch > 0 {
		size = min(size, lim.MaxBatch)
	}
	return rate.NewLimiter(rate.Limit(0.95*perSec), burst), size
}

// submittable reports whether a collected record may still be sent under
// this version's rules. A link recorded by an earlier version may name
// what is now known to be private (a carrier-grade NAT address, a host
// under .home) or keep what redaction now cuts (jane.doe@corp): such a
// record is dropped, not sent, and the server, whose rules are the same,
// would refuse its whole batch for it, again at every delivery.
func submittable(r participation.Record) bool {
	if r.Kind != participation.KindURL {
		return true
	}
	var body struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(r.Body, &body) != nil {
		return true // the server says what is wrong with it
	}
	c, err := urlcanon.Canonicalize(body.URL)
	return err == nil && !c.Private() && urlcanon.Redact(c) == body.URL
}
