package server

// DatabaseURLEnv names the server database when no --db does: a
// postgres:// URL (the usual way to give replicas their database without
// putting a password on the command line) or a SQLite file's path.
const DatabaseURLEnv = "KSN_DATABASE_URL"

// share divides a license's rate and burst among replicas: each replica
// keeps its own token buckets, in memory, and enforces 1/replicas of the
// license's budget, so that together they never let more through than
// the budget, whichever replica a request reaches. A load balancer that
// spreads a client's requests evenly lets it use the whole budget; one
// that sends all of them to one replica, a share.
// Zero rate and burst are the defaults given.
func share(rate float64, burst int, defRate float64, defBurst, replicas int) (float64, int) {
	if rate <= 0 {
		rate = defRate
	}
	if burst <= 0 {
		burst = defBurst
	}
	if replicas <= 1 {
		return rate, burst
	}
	return rate / float64(replicas), max(1, burst/replicas)
}
