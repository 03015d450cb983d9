package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "ok\n")
}

// handleStatement needs no license: a user reads the statement before
// deciding to participate, and may not have a key yet.
func (s *Server) handleStatement(w http.ResponseWriter, r *http.Request) {
	st := s.cfg.Statement
	writeJSON(w, http.StatusOK, api.Statement{ID: st.ID, SHA256: st.SHA256, Text: st.Text})
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, lic store.License) {
	if !s.charge(w, r, lic, 1) {
		return
	}
	fr, wait := "available", 0
	if ok, left := s.restricted(r); ok {
		fr, wait = "restricted", retrySeconds(left)
	}
	writeJSON(w, http.StatusOK, api.Status{
		License:           api.License{State: lic.State(s.now()), Label: lic.Label, ExpiresAt: lic.ExpiresAt},
		Statement:         api.StatementRef{ID: s.cfg.Statement.ID, SHA256: s.cfg.Statement.SHA256},
		Limits:            s.limits(),
		FileReputation:    fr,
		RestrictedSeconds: wait,
	})
}

func (s *Server) handleLookupFiles(w http.ResponseWriter, r *http.Request, lic store.License) {
	// Restricted before anything is charged: the client is told to come
	// back later, and must not find its bucket empty when it does.
	if ok, left := s.restricted(r); ok {
		writeProblem(w, r, problem{Status: http.StatusServiceUnavailable, Type: api.ProblemRestricted,
			Detail: "file reputation is temporarily restricted by the operator", RetryAfter: retrySeconds(left)})
		return
	}
	var files []store.FileDigests
	var itemErr error
	done, ok := s.readBody(w, r, lic, func(body io.Reader, item func(int) error) (n int, err error) {
		files, itemErr, err = decodeFileLookup(body, item)
		return len(files), err
	})
	if !ok {
		return
	}
	defer done()
	if itemErr != nil {
		writeProblem(w, r, problem{Status: http.StatusBadRequest, Type: api.ProblemBadRequest, Detail: itemErr.Error()})
		return
	}
	n := len(files)
	results, stats, err := s.lookupFiles(r, files)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if len(results) != n { // a Store bug; never send results out of step
		s.storeFailed(w, r, fmt.Errorf("store returned %d results for %d queries", len(results), n))
		return
	}
	resp := api.FileLookupResponse{Results: make([]api.FileResult, n)}
	for i, res := range results {
		resp.Results[i] = fileResult(res)
		s.metrics.lookupItems.WithLabelValues(resp.Results[i].Verdict).Inc()
	}
	s.addPrevalence(files, stats, resp.Results)
	done() // the answer is written without the turn: a client reading it slowly holds none
	writeJSON(w, http.StatusOK, resp)
}

// lookupFiles looks the files up, and reads the aggregates of their
// SHA-256 digests for prevalence: together when the store can. Prevalence
// is extra: when it cannot be read, stats is nil and the verdicts go out
// without it.
func (s *Server) lookupFiles(r *http.Request, files []store.FileDigests) ([]reputation.Result, map[string]store.ObjectStat, error) {
	keys := make([][]byte, 0, len(files))
	for _, f := range files {
		if d := f[checksum.SHA256]; d != nil {
			keys = append(keys, d)
		}
	}
	if both, ok := s.cfg.Store.(store.FileLookupWithStats); ok {
		// On an error, once more one after the other: the verdicts may
		// still be had without the prevalence.
		if results, stats, err := both.LookupFilesWithStats(r.Context(), files, store.ObjectFile, keys); err == nil {
			return results, stats, nil
		}
	}
	results, err := s.cfg.Store.LookupFiles(r.Context(), files)
	if err != nil || len(keys) == 0 {
		return results, nil, err
	}
	stats, err := s.cfg.Store.ObjectStats(r.Context(), store.ObjectFile, keys)
	if err != nil {
		s.log.Warn("prevalence unavailable", slog.Any("error", err))
	}
	return results, stats, nil
}

// addPrevalence adds to each result how many participants reported the
// file (by its SHA-256), and the aggregate's first and last days where no
// source gave dates.
func (s *Server) addPrevalence(files []store.FileDigests, stats map[string]store.ObjectStat, results []api.FileResult) {
	for i, f := range files {
		st, ok := stats[string(f[checksum.SHA256])]
		if !ok || st.Participants < int64(s.cfg.MinPrevalence) {
			continue
		}
		res := &results[i]
		res.Prevalence = int(min(st.Participants, math.MaxInt32))
		if res.FirstSeen == nil && res.LastSeen == nil {
			res.FirstSeen, res.LastSeen = optTime(st.FirstSeen), optTime(st.LastSeen)
		}
	}
}

// parseDigests checks one lookup item: at least one digest, every one of a
// known algorithm, in hex of the algorithm's length.
func parseDigests(in map[string]string) (store.FileDigests, error) {
	if len(in) == 0 {
		return nil, errors.New("no digests")
	}
	out := make(store.FileDigests, len(in))
	for name, h := range in {
		alg := checksum.Algorithm(name)
		if !alg.Valid() {
			return nil, fmt.Errorf("unknown digest algorithm %q (known: blake3, sha256, sha1, md5)", truncate(name))
		}
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != alg.Size() {
			return nil, fmt.Errorf("%s digest is not %d hex characters", alg, 2*alg.Size())
		}
		out[alg] = b
	}
	return out, nil
}

func fileResult(res reputation.Result) api.FileResult {
	fr := api.FileResult{
		Verdict:  string(res.Verdict),
		Threat:   res.ThreatName,
		Category: res.Category,
		Sources:  res.Sources,
	}
	if fr.Verdict == "" {
		fr.Verdict = string(reputation.Unknown)
	}
	fr.FirstSeen = optTime(res.FirstSeen)
	fr.LastSeen = optTime(res.LastSeen)
	return fr
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (s *Server) handleSubmissions(w http.ResponseWriter, r *http.Request, lic store.License) {
	var batch api.SubmissionBatch
	records, done, ok := readBatch[api.Record](s, w, r, lic, "records", map[string]any{"participant": &batch.Participant})
	if !ok {
		return
	}
	// The turn ends once the batch is stored, or once it queued for a
	// database that writes in groups (store.QueueWrites): queued, it holds
	// no body open, and the next bodies are read while it is written.
	release := sync.OnceFunc(done)
	defer release()
	batch.Records = records
	n := len(records)
	if _, err := store.ParseParticipant(batch.Participant); err != nil {
		writeProblem(w, r, problem{Status: http.StatusBadRequest, Type: api.ProblemBadRequest,
			Detail: "participant: missing or not 32 lower-case hex characters (the client's code for the half-year)"})
		return
	}
	subs := make([]store.Submission, n)
	for i, rec := range batch.Records {
		sub, err := parseSubmission(rec)
		if err != nil {
			writeProblem(w, r, problem{Status: http.StatusBadRequest, Type: api.ProblemBadRequest,
				Detail: fmt.Sprintf("records[%d]: %v", i, err)})
			return
		}
		subs[i] = sub
	}
	accepted, dups, err := s.cfg.Store.StoreSubmissions(store.WhenQueued(r.Context(), release),
		store.Sender{License: lic.ID, Seats: lic.Seats, Participant: batch.Participant}, subs, s.now())
	var reused *store.IDReusedError
	if errors.As(err, &reused) {
		writeProblem(w, r, problem{Status: http.StatusUnprocessableEntity, Type: api.ProblemIDReused,
			Detail: fmt.Sprintf("records[%d]: the id %s was already stored with a different record; nothing of the batch was stored", reused.Index, reused.ID)})
		return
	}
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.metrics.submissions.WithLabelValues("accepted").Add(float64(accepted))
	s.metrics.submissions.WithLabelValues("duplicate").Add(float64(dups))
	writeJSON(w, http.StatusAccepted, api.SubmissionResult{Accepted: accepted, Duplicates: dups})
}

// truncate bounds client-controlled text echoed in a problem.
func truncate(s string) string {
	const n = 200
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
