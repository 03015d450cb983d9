package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the PostgreSQL server the tests use: a URL whose user
// may create schemas (.ci/postgres starts one and prints it).
const PostgresEnv = "KSN_TEST_POSTGRES"

// PostgresDSN returns the URL of a new, empty schema of the PostgreSQL
// server that $KSN_TEST_POSTGRES names, dropped when the test ends. Tests
// that need PostgreSQL call it first: without the variable they are
// skipped, and say how to run them, except under CI (CI set), where a
// missing server fails the test: .ci/run starts one, and a conformance
// suite that silently ran on one backend only would prove nothing.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set under CI: .ci/run starts PostgreSQL and sets it", PostgresEnv)
		}
		t.Skipf("PostgreSQL tests skipped: %s is not set (eval \"$(.ci/postgres start)\" starts a server and sets it)", PostgresEnv)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "ksntest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
