package participation

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRecordAndLatest(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)

	if d, err := s.Latest(ctx); err != nil || d != nil {
		t.Fatalf("Latest of a fresh store = %+v, %v; want nil, nil", d, err)
	}
	if ds, err := s.Decisions(ctx); err != nil || len(ds) != 0 {
		t.Fatalf("Decisions of a fresh store = %+v, %v", ds, err)
	}

	at := time.Date(2025, 6, 1, 10, 30, 15, 987654321, time.FixedZone("CEST", 2*3600))
	server, none := "https://ksn.example.org", ""
	in := []Decision{ // the endpoint: a server, none set, not kept (before ksn kept it)
		{At: at, Accepted: true, Level: Extended, StatementID: curStatement.ID, StatementSHA256: curStatement.SHA256, Via: ViaTerminal, Version: "0.1.0", Endpoint: &server},
		{At: at.Add(time.Hour), Accepted: false, Via: ViaFlag, Version: "0.1.0"}, // ksn optout
		{At: at.Add(2 * time.Hour), Accepted: true, Level: Basic, StatementID: oldStatement.ID, StatementSHA256: oldStatement.SHA256, Via: ViaFlag, Version: "0.2.0", Endpoint: &none},
	}
	var recorded []Decision
	for i, d := range in {
		got, err := s.Record(ctx, d)
		if err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
		want := d
		want.Seq = int64(i + 1)
		want.At = d.At.UTC().Truncate(time.Second)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Record %d returned %+v, want %+v", i, got, want)
		}
		if got.At.Location() != time.UTC {
			t.Errorf("Record %d: At in %v, want UTC", i, got.At.Location())
		}
		recorded = append(recorded, got)

		latest, err := s.Latest(ctx)
		if err != nil || latest == nil || !reflect.DeepEqual(*latest, got) {
			t.Errorf("Latest after Record %d = %+v, %v; want %+v", i, latest, err, got)
		}
	}
	ds, err := s.Decisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ds, recorded) {
		t.Errorf("Decisions = %+v\nwant %+v", ds, recorded)
	}

	// A zero At is the store's clock.
	s.now = func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC) }
	got, err := s.Record(ctx, Decision{Accepted: false, Via: ViaTerminal, Version: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC); !got.At.Equal(want) || got.Seq != 4 {
		t.Errorf("Record with zero At = %+v, want At %v, Seq 4", got, want)
	}
}

func TestRecordRefusesIncompleteDecisions(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	good := Decision{Accepted: true, Level: Extended, StatementID: curStatement.ID, StatementSHA256: curStatement.SHA256, Via: ViaTerminal, Version: "v"}
	for name, mutate := range map[string]func(*Decision){
		"no via":            func(d *Decision) { d.Via = "" },
		"unknown via":       func(d *Decision) { d.Via = "environment" },
		"no level":          func(d *Decision) { d.Level = "" },
		"unknown level":     func(d *Decision) { d.Level = "full" },
		"no statement id":   func(d *Decision) { d.StatementID = "" },
		"no statement hash": func(d *Decision) { d.StatementSHA256 = "" },
		"upper-case hash":   func(d *Decision) { d.StatementSHA256 = strings.ToUpper(d.StatementSHA256) },
		"short hash":        func(d *Decision) { d.StatementSHA256 = d.StatementSHA256[:63] },
		"escape in id":      func(d *Decision) { d.StatementID = "s1\x1b]0;pwned\a" },
		"bidi in id":        func(d *Decision) { d.StatementID = "s1\u202e" },
		"refusal, bad id":   func(d *Decision) { d.Accepted, d.Level, d.StatementID = false, "", "x\x1b[2J" },
	} {
		d := good
		mutate(&d)
		if _, err := s.Record(ctx, d); err == nil {
			t.Errorf("%s: recorded", name)
		}
	}
	if ds, _ := s.Decisions(ctx); len(ds) != 0 {
		t.Errorf("%d decisions recorded", len(ds))
	}
	if _, err := s.Record(ctx, good); err != nil {
		t.Errorf("a complete acceptance: %v", err)
	}
}

// The history is append-only in the database itself: UPDATE, DELETE and
// REPLACE fail at the SQL level, whoever issues them.
func TestDecisionsAreAppendOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, d := range []Decision{
		{Accepted: true, Level: Extended, StatementID: curStatement.ID, StatementSHA256: curStatement.SHA256, Via: ViaTerminal, Version: "v"},
		{Accepted: false, Via: ViaFlag, Version: "v"},
	} {
		if _, err := s.Record(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	before, err := s.Decisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE decisions SET accepted = 1, level = 'extended', statement_id = 'x', statement_sha256 = '` + curStatement.SHA256 + `' WHERE seq = 2`,
		`UPDATE decisions SET at = 0`,
		`DELETE FROM decisions WHERE seq = 2`,
		`DELETE FROM decisions`,
		`INSERT OR REPLACE INTO decisions (seq, at, accepted, level, statement_id, statement_sha256, via, version)
			VALUES (2, 0, 1, 'extended', 'x', '` + curStatement.SHA256 + `', 'flag', 'v')`,
		`REPLACE INTO decisions (seq, at, accepted, level, statement_id, statement_sha256, via, version)
			VALUES (1, 0, 0, '', '', '', 'flag', 'v')`,
		`INSERT INTO decisions (seq, at, accepted, level, statement_id, statement_sha256, via, version)
			VALUES (2, 0, 1, 'extended', 'x', '` + curStatement.SHA256 + `', 'flag', 'v')
			ON CONFLICT (seq) DO UPDATE SET accepted = 1`,
	} {
		_, err := s.db.ExecContext(ctx, stmt)
		if err == nil {
			t.Errorf("%s: succeeded", stmt)
			continue
		}
		if !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: failed with %v, want the trigger's error", stmt, err)
		}
	}
	after, err := s.Decisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("decisions changed:\nbefore %+v\nafter  %+v", before, after)
	}
	// Appending still works, with the next sequence number.
	d, err := s.Record(ctx, Decision{Accepted: false, Via: ViaFlag, Version: "v"})
	if err != nil || d.Seq != 3 {
		t.Errorf("Record after the attempts = %+v, %v", d, err)
	}
}
