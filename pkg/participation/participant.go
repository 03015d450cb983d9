package participation

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/halfyear"
)

// participantContext prefixes the half-year label in the HMAC that makes a
// participant code.
const participantContext = "ksn-participant:"

// ParticipantCode returns the code an installation with the given secret
// sends in the half-year of t: the first 16 bytes of
// HMAC-SHA256(secret, "ksn-participant:" + label), in lower-case hex. The
// network learns that batches with one code come from one installation
// within a half-year, which is what counting distinct participants needs;
// without the secret, codes of two half-years cannot be linked.
func ParticipantCode(secret []byte, t time.Time) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(participantContext + halfyear.Of(t).String()))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Participant returns this installation's participant code for the
// half-year of now, creating the secret behind it when there is none yet.
// It is called only when something is about to be sent.
func (s *Store) Participant(ctx context.Context, now time.Time) (string, error) {
	secret, err := s.participantSecret(ctx)
	if err != nil {
		return "", fmt.Errorf("participant code: %w", err)
	}
	return ParticipantCode(secret, now), nil
}

func (s *Store) participantSecret(ctx context.Context) ([]byte, error) {
	var secret []byte
	err := s.db.QueryRowContext(ctx, `SELECT secret FROM participant_secret WHERE id = 1`).Scan(&secret)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	// Another process may create it at the same moment: the first one wins
	// and both read it back.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO participant_secret (id, secret, created_at) VALUES (1, ?, ?)
ON CONFLICT (id) DO NOTHING`, fresh, s.now().Unix()); err != nil {
		return nil, err
	}
	err = s.db.QueryRowContext(ctx, `SELECT secret FROM participant_secret WHERE id = 1`).Scan(&secret)
	return secret, err
}
