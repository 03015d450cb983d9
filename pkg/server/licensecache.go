package server

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

const (
	// licenseCheckEvery is how stale a license may be: a revocation, an
	// extension or new seats take effect within it. Reading the license
	// on every request was a fifth of what a one-item lookup cost.
	licenseCheckEvery = time.Second
	// maxCachedLicenses bounds the cache; when full, it starts afresh.
	maxCachedLicenses = 4096
)

// licenseCache keeps the licenses of keys seen in the last
// licenseCheckEvery. Keys are held by their SHA-256; unknown keys are not
// kept (each costs a query, as before), so made-up keys cannot fill it.
type licenseCache struct {
	mu sync.Mutex
	m  map[[32]byte]cachedLicense
}

type cachedLicense struct {
	lic  store.License
	read time.Time
}

// license returns the license of key, from the cache when it was read
// from the store within licenseCheckEvery.
func (s *Server) license(ctx context.Context, key string) (store.License, error) {
	h := sha256.Sum256([]byte(key))
	now := s.now()
	c := &s.licenses
	c.mu.Lock()
	got, ok := c.m[h]
	c.mu.Unlock()
	if ok && !now.Before(got.read) && now.Sub(got.read) < licenseCheckEvery {
		return got.lic, nil
	}
	lic, err := s.cfg.Store.LicenseByKey(ctx, key)
	if err != nil {
		return lic, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedLicenses {
		c.m = make(map[[32]byte]cachedLicense)
	}
	c.m[h] = cachedLicense{lic, now}
	c.mu.Unlock()
	return lic, nil
}
