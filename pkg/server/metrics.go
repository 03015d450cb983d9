package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics. Labels take values from
// fixed sets only (endpoints, status codes, verdicts), never from request
// data, so their number stays bounded.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	lookupItems *prometheus.CounterVec
	submissions *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ksn_http_requests_total",
			Help: "HTTP requests by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ksn_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by endpoint.",
			Buckets: prometheus.DefBuckets,
		}, []string{"endpoint"}),
		lookupItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ksn_lookup_file_items_total",
			Help: "Files looked up, by the verdict answered.",
		}, []string{"verdict"}),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ksn_submission_records_total",
			Help: "Submitted records: accepted (new) or duplicate (id seen before, ignored).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.latency, m.lookupItems, m.submissions)
	return m
}

func (m *metrics) observe(endpoint string, status int, d time.Duration) {
	m.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(endpoint).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
