package serve

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of their own (nothing global),
// served at /metrics in the Prometheus text format.
type metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.CounterVec   // by route and status code
	texts         prometheus.Counter       // texts embedded
	tokens        prometheus.Counter       // tokens embedded
	rejected      *prometheus.CounterVec   // by reason: overloaded, too_large, invalid, unauthorized
	inFlight      prometheus.Gauge         // admitted requests not yet answered
	queueDepth    prometheus.Gauge         // requests waiting for a batch
	latency       *prometheus.HistogramVec // request latency by route
	queueSeconds  prometheus.Histogram     // time from admission to joining a batch
	inferSeconds  prometheus.Histogram     // one batch's encoder time
	batchTexts    prometheus.Histogram     // texts per batch
	batchTokens   prometheus.Histogram     // tokens per batch
	batchRequests prometheus.Histogram     // requests per batch
}

func newMetrics() *metrics {
	const ns = "minilm"
	latencyBuckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total",
			Help: "HTTP requests answered, by route and status code."}, []string{"route", "code"}),
		texts: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "texts_total",
			Help: "Texts embedded."}),
		tokens: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "tokens_total",
			Help: "Tokens embedded, [CLS] and [SEP] included."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rejected_requests_total",
			Help: "Requests refused before embedding, by reason."}, []string{"reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "requests_in_flight",
			Help: "Admitted requests not yet answered."}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "queue_depth",
			Help: "Requests waiting to join a batch."}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "request_duration_seconds",
			Help: "Time from receiving a request to answering it.", Buckets: latencyBuckets}, []string{"route"}),
		queueSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "queue_duration_seconds",
			Help: "Time a request waited before joining a batch.", Buckets: latencyBuckets}),
		inferSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "batch_duration_seconds",
			Help: "Encoder time of one batch.", Buckets: latencyBuckets}),
		batchTexts: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "batch_texts",
			Help: "Texts per batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		batchTokens: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "batch_tokens",
			Help: "Tokens per batch.", Buckets: prometheus.ExponentialBuckets(16, 2, 14)}),
		batchRequests: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "batch_requests",
			Help: "Requests per batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
	}
	m.registry.MustRegister(m.requests, m.texts, m.tokens, m.rejected, m.inFlight, m.queueDepth, m.latency,
		m.queueSeconds, m.inferSeconds, m.batchTexts, m.batchTokens, m.batchRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
