package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

func TestSubmissions(t *testing.T) {
	fx := newFixture(t, nil)
	a, b, c := strings.Repeat("a", 32), strings.Repeat("b", 32), strings.Repeat("c", 32)
	res := decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(a), rec(b))), 202)
	if res != (api.SubmissionResult{Accepted: 2}) {
		t.Errorf("first batch %+v", res)
	}
	// The same batch again (a retry after a lost answer), plus a new record.
	res = decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(a), rec(b), rec(c))), 202)
	if res != (api.SubmissionResult{Accepted: 1, Duplicates: 2}) {
		t.Errorf("resent batch %+v", res)
	}

	bad := func(mod func(*api.Record)) api.SubmissionBatch {
		r := rec(strings.Repeat("d", 32))
		mod(&r)
		return batchOf(rec(strings.Repeat("e", 32)), r)
	}
	for name, batch := range map[string]api.SubmissionBatch{
		"upper-case id": bad(func(r *api.Record) { r.ID = strings.ToUpper(r.ID) }),
		"short id":      bad(func(r *api.Record) { r.ID = "abc" }),
		"no kind":       bad(func(r *api.Record) { r.Kind = "" }),
		"odd kind":      bad(func(r *api.Record) { r.Kind = "File Record" }),
		"array body":    bad(func(r *api.Record) { r.Body = json.RawMessage(`[1]`) }),
		"string body":   bad(func(r *api.Record) { r.Body = json.RawMessage(`"x"`) }),
		"no created_at": bad(func(r *api.Record) { r.CreatedAt = time.Time{} }),
		"missing body":  bad(func(r *api.Record) { r.Body = nil }),
		"unknown kind":  bad(func(r *api.Record) { r.Kind = "mail" }),
		"no participant": func() api.SubmissionBatch {
			b := batchOf(rec(strings.Repeat("d", 32)))
			b.Participant = ""
			return b
		}(),
		"upper-case participant": func() api.SubmissionBatch {
			b := batchOf(rec(strings.Repeat("d", 32)))
			b.Participant = strings.ToUpper(testParticipant)
			return b
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			problemOf(t, fx.do("POST", api.PathSubmissions, fx.key, batch), 400, api.ProblemBadRequest)
		})
	}
	problemOf(t, fx.do("POST", api.PathSubmissions, fx.key, `{"records": [{"id": 1}]}`), 400, api.ProblemBadRequest)
	var n int
	if err := fx.db.DB().QueryRow(`SELECT count(*) FROM sealed_submissions`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d records stored (%v), want 3: a refused batch stores nothing", n, err)
	}

	many := make([]api.Record, api.MaxBatch+1)
	for i := range many {
		many[i] = rec(fmt.Sprintf("%032x", i))
	}
	problemOf(t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(many...)), 413, api.ProblemTooLarge)
}
