package participation

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// testEpoch is the injected "now" of most tests.
var testEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// runHelper runs the helper process named name and returns its exit code.
func runHelper(name string) int {
	var err error
	switch name {
	case "append":
		err = helperAppend()
	case "system":
		err = helperSystem()
	case "crash":
		err = helperCrash()
	default:
		err = fmt.Errorf("unknown helper %q", name)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", name, err)
		return 1
	}
	return 0
}

// waitForStart sleeps until the moment in helperAtEnv, so that helpers
// started one after another act at the same moment.
func waitForStart() error {
	at, err := strconv.ParseInt(os.Getenv(helperAtEnv), 10, 64)
	if err != nil {
		return fmt.Errorf("bad %s: %w", helperAtEnv, err)
	}
	time.Sleep(time.Until(time.Unix(0, at)))
	return nil
}

// Batches of helperAppend: appendBatches × appendBatchSize records.
const (
	appendBatches   = 10
	appendBatchSize = 50
)

// helperAppend opens the state directory at the agreed moment (the first
// open included) and appends its 500 records in 10 transactions, printing
// each record's id once its transaction committed.
func helperAppend() error {
	if err := waitForStart(); err != nil {
		return err
	}
	idx, err := strconv.Atoi(os.Getenv(helperIndexEnv))
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(helperDirEnv))
	if err != nil {
		return err
	}
	defer s.Close()
	for b := range appendBatches {
		recs := make([]Record, appendBatchSize)
		for i := range recs {
			body := map[string]int{"process": idx, "n": b*appendBatchSize + i}
			if recs[i], err = NewRecord(KindFile, body, time.Now()); err != nil {
				return err
			}
		}
		if _, err := s.Append(ctx, recs, Limits{MaxRecords: 1_000_000}); err != nil {
			return err
		}
		for _, r := range recs {
			fmt.Println(r.ID)
		}
	}
	return nil
}

// helperSystem appends a system record, made at the injected time, at the
// agreed moment, and prints whether it was appended.
func helperSystem() error {
	if err := waitForStart(); err != nil {
		return err
	}
	sec, err := strconv.ParseInt(os.Getenv(helperNowEnv), 10, 64)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(helperDirEnv))
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := NewRecord(KindSystem, CurrentSystem("test"), time.Unix(sec, 0))
	if err != nil {
		return err
	}
	ok, err := s.AppendSystemRecord(ctx, r, Limits{})
	if err != nil {
		return err
	}
	fmt.Println("appended", ok)
	return nil
}

// Size of the batches of helperCrash: large enough that an Append takes
// well over 10 ms, so that a kill soon after "appending" lands inside it.
const crashBatch = 2000

// helperCrash records a decision and appends a batch of file records, over
// and over, printing "appending" as it begins each Append, until it is
// killed.
func helperCrash() error {
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(helperDirEnv))
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		d := Decision{Accepted: i%2 == 0, Via: ViaFlag, Version: "crash"}
		if d.Accepted {
			d.Level, d.StatementID, d.StatementSHA256 = Extended, curStatement.ID, curStatement.SHA256
		}
		if _, err := s.Record(ctx, d); err != nil {
			return err
		}
		recs := make([]Record, crashBatch)
		for j := range recs {
			obs := FileObservation{
				Digests: map[string]string{"sha256": fmt.Sprintf("%064x", i*crashBatch+j), "blake3": fmt.Sprintf("%064x", j)},
				Size:    int64(i), Verdict: "unknown", HashMS: 1.5,
			}
			if recs[j], err = NewRecord(KindFile, obs, time.Now()); err != nil {
				return err
			}
		}
		fmt.Println("appending", i)
		if _, err := s.Append(ctx, recs, Limits{MaxRecords: 1_000_000}); err != nil {
			return err
		}
	}
}

// sameRecord compares what a record says (id, kind, time, body), not how
// it came to be: a record read back never carries the encoder's mark.
func sameRecord(a, b Record) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.CreatedAt.Equal(b.CreatedAt) && bytes.Equal(a.Body, b.Body)
}
