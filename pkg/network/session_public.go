package network

import (
	"context"
	"net/http"
	"time"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/sources"
)

// publicGate is one enabled public source in a session: asked only while
// the user participates (re-read before every batch), its requests and
// failures remembered for the next runs. A source the memory holds back
// (a wait, a refused key) has no src: it is not asked, and its err says
// why.
type publicGate struct {
	s    *Session
	name string
	base string
	src  publicSource
	sent int64 // requests already remembered
	err  error
}

func (g *publicGate) Name() string            { return g.name }
func (g *publicGate) Trust() reputation.Trust { return reputation.TrustNetwork }

func (g *publicGate) LookupFiles(ctx context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	if !g.s.participating(ctx) {
		return make([]reputation.Answer, len(files)), nil
	}
	a, err := g.src.LookupFiles(ctx, files)
	n := g.src.Requests()
	remember(g.s.consent.env.Paths, g.name, g.base, int(n-g.sent), g.src.QuotaSpent(), err, time.Now())
	g.sent = n
	if err != nil {
		g.err = err
	}
	return a, err
}

// LookupLinks answers nothing and sends nothing: links are not sent to
// third parties.
func (g *publicGate) LookupLinks(ctx context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	return make([]reputation.Answer, len(links)), nil
}

// openPublic opens the public sources the user enabled. It sends nothing:
// the sources ask when the run looks files up. A source the memory of
// earlier runs holds back is not opened, with a notice: a quota spent
// until midnight, a key refused since it was enabled, a known daily quota
// already used. Settings that do not allow a source are warnings: local
// verdicts stand.
func (s *Session) openPublic(c *Consent) {
	paths := c.env.Paths
	cfgs, err := Sources(paths)
	if err != nil {
		s.msg.Warnf("public sources are not used: %v", err)
		return
	}
	var httpClient *http.Client
	now := time.Now()
	mem := loadMemory(paths)
	for _, cfg := range cfgs {
		if !cfg.Enabled {
			continue
		}
		g := &publicGate{s: s, name: cfg.Name, base: cfg.BaseURL}
		if !c.settings.Bool("insecure_transport") && config.PlainRemote(cfg.BaseURL) {
			s.msg.Warnf("%s is not asked: %s is plain http to another machine (set insecure_transport to allow it)", cfg.Name, cfg.BaseURL)
			continue
		}
		key, err := readKey(paths, cfg.Name)
		if err != nil || (cfg.NeedsKey && key == "") {
			s.msg.Warnf("%s is not asked: its key is missing; store it again: ksn source enable %s --key-file FILE", cfg.Name, cfg.Name)
			continue
		}
		m := mem[cfg.Name]
		if m.URL != cfg.BaseURL {
			m = sourceMemory{}
		}
		budget := 0
		switch {
		case m.Until.After(now):
			s.msg.Errorf("notice: not asking %s before %s: %s", cfg.Name, formatTime(m.Until), orDefault(m.Detail, "it asked to wait"))
			g.err = &sources.Error{Source: cfg.Name, Reason: sources.ReasonRateLimited, Until: m.Until, Err: errRemembered}
		case m.Reason == sources.ReasonKeyRejected && m.At.After(cfg.EnabledAt):
			s.msg.Errorf("notice: not asking %s: it refused its key on %s", cfg.Name, formatTime(m.At))
			g.err = &sources.Error{Source: cfg.Name, Reason: sources.ReasonKeyRejected, Err: errRemembered}
		case cfg.DailyQuota > 0 && m.requestsOn(now) >= cfg.DailyQuota:
			until := sources.NextUTCDay(now)
			s.msg.Errorf("notice: not asking %s before %s: its daily quota of %d requests is used up", cfg.Name, formatTime(until), cfg.DailyQuota)
			g.err = &sources.Error{Source: cfg.Name, Reason: sources.ReasonRateLimited, Until: until, Err: errRemembered}
		case cfg.DailyQuota > 0:
			budget = cfg.DailyQuota - m.requestsOn(now)
		}
		if g.err == nil {
			if httpClient == nil {
				t, err := client.NewTransport(c.settings.String("proxy"), nil)
				if err != nil {
					s.msg.Warnf("public sources are not used: proxy: %v", err)
					return
				}
				httpClient = &http.Client{Transport: t, Timeout: c.settings.Duration("timeout"),
					// A redirect could carry the key elsewhere: it is
					// answered as the 3xx it is.
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			}
			g.src = cfg.open(sources.PublicOptions{BaseURL: cfg.BaseURL, Key: key, HTTP: httpClient,
				UserAgent: "ksn/" + c.env.Version, Budget: budget})
		}
		s.public = append(s.public, g)
	}
}

// errRemembered is the cause of a failure an earlier run saw.
var errRemembered = rememberedError{}

type rememberedError struct{}

func (rememberedError) Error() string { return "as an earlier run learnt ('ksn status' shows it)" }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
