package network

import (
	"context"
	"errors"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/participation"
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
// server has accepted it. Delivery is at least once: a crash between the
// send and the delete resends the batch next time, and the server ignores
// the ids it has seen, so nothing is lost or counted twice. permit, when
// not nil, is asked before every batch and stops delivery with its error.
func deliverOutbox(ctx context.Context, cl *client.Client, store outbox, permit func(context.Context) error) (sent int, err error) {
	for {
		if permit != nil {
			if err := permit(ctx); err != nil {
				return sent, err
			}
		}
		var batch []api.Record
		err := store.Records(ctx, func(r participation.Record) error {
			batch = append(batch, wireRecord(r))
			if len(batch) == api.MaxBatch {
				return errChunkFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errChunkFull) {
			return sent, err
		}
		if len(batch) == 0 {
			return sent, nil
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
