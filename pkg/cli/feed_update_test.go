package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/term"
)

// The proxy setting is honoured by feed downloads: a feed on a host that
// does not exist is fetched through a local forward proxy, which sees the
// request.
func TestFeedUpdateUsesTheProxy(t *testing.T) {
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host != "feeds.ksn-test.invalid" {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusBadGateway)
			return
		}
		proxied.Add(1)
		w.Write([]byte("evil.example malicious Proxied.Listing\n"))
	}))
	defer proxy.Close()

	home := t.TempDir()
	env := map[string]string{"KSN_HOME": home}
	f := &Factory{Env: func(k string) string { return env[k] }, OpenStore: DefaultOpenStore, Version: "test"}
	paths, err := f.Paths()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"insecure_transport": "true", "proxy": proxy.URL} {
		if err := config.SetSetting(paths, k, v); err != nil {
			t.Fatal(err)
		}
	}
	ios, _, out, _ := term.Test()
	f.IO = ios
	if err := NewCmdFeedAdd(f).RunE(nil, []string{"proxied", "http://feeds.ksn-test.invalid/list.txt"}); err != nil {
		t.Fatal(err)
	}
	err = runFeedUpdate(context.Background(), &FeedUpdateOptions{IO: ios, Open: f.OpenFeedUpdater, Names: []string{"proxied"}})
	if err != nil || proxied.Load() != 1 || !strings.Contains(out.String(), "proxied: added: 1 indicator") {
		t.Fatalf("update through the proxy: %v, %d proxied, %q", err, proxied.Load(), out.String())
	}
}
