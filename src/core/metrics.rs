//! Prometheus metrics, exposed at `GET /metrics` in the OpenMetrics text format: HTTP requests,
//! the task queue (depth by kind and status, task latency and outcomes) and the process's
//! memory (its resident set split as [`crate::core::memory`] splits it, read at each scrape).
//! Each process owns its registry (no global), so parallel tests never share counts.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Content type of what [`Metrics::render`] produces.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route pattern (`/api/v1/jobs/{id}`), or `unmatched`: never the raw path, whose
    /// values would grow the label set without bound.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub kind: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TaskLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MemoryLabels {
    /// `resident`, `resident_peak`, `resident_anonymous`, `resident_files_<dir>` (files under
    /// a named directory: `search_index`, `model`, `database`), `resident_other_files`,
    /// `heap`, `heap_large_blocks`, or a part of the heap a component reports
    /// (`heap_part_<label>`, e.g. `heap_part_hnsw_graph`).
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub kind: String,
    /// `done`, `retry`, `dead` or `handed_back`.
    pub outcome: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub in_flight: Gauge,
    pub queue_depth: Family<QueueLabels, Gauge>,
    pub task_duration: Family<TaskLabels, Histogram, fn() -> Histogram>,
    pub task_outcomes: Family<OutcomeLabels, Counter>,
    pub memory: Family<MemoryLabels, Gauge>,
}

fn task_histogram() -> Histogram {
    Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0])
}

fn latency_histogram() -> Histogram {
    Histogram::new([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("jobportal");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response, by method and route",
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "Requests being served now",
            in_flight.clone(),
        );
        let queue_depth = Family::<QueueLabels, Gauge>::default();
        registry.register("tasks", "Tasks in the queue by kind and status", queue_depth.clone());
        let task_duration =
            Family::<TaskLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                task_histogram as fn() -> Histogram,
            );
        registry.register(
            "task_duration_seconds",
            "Time a task attempt took, by kind",
            task_duration.clone(),
        );
        let task_outcomes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "task_attempts",
            "Finished task attempts by kind and outcome",
            task_outcomes.clone(),
        );
        let memory = Family::<MemoryLabels, Gauge>::default();
        registry.register(
            "memory_bytes",
            "The process's memory by kind, read when scraped",
            memory.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            in_flight,
            queue_depth,
            task_duration,
            task_outcomes,
            memory,
        }
    }

    /// Sets the memory gauges to `parts` (kind, bytes): see [`MemoryLabels`]. Not cleared
    /// first, so a scrape rendering meanwhile never sees them missing (the kinds a process
    /// reports do not change while it runs).
    pub fn set_memory(&self, parts: &[(String, u64)]) {
        for (kind, bytes) in parts {
            let gauge = self.memory.get_or_create(&MemoryLabels { kind: kind.clone() });
            gauge.set(i64::try_from(*bytes).unwrap_or(i64::MAX));
        }
    }

    /// Records one finished task attempt.
    pub fn observe_task(&self, kind: &str, outcome: &str, seconds: f64) {
        let labels = OutcomeLabels { kind: kind.to_owned(), outcome: outcome.to_owned() };
        self.task_outcomes.get_or_create(&labels).inc();
        self.task_duration.get_or_create(&TaskLabels { kind: kind.to_owned() }).observe(seconds);
    }

    /// Replaces the queue-depth gauges with a fresh count (kinds or statuses that vanished read 0).
    pub fn set_queue_depth(&self, counts: &[(String, String, u64)]) {
        self.queue_depth.clear();
        for (kind, status, count) in counts {
            let labels = QueueLabels { kind: kind.clone(), status: status.clone() };
            self.queue_depth.get_or_create(&labels).set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
    }

    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels { method: method.to_owned(), route: route.to_owned(), status };
        self.requests.get_or_create(&labels).inc();
        let labels = RouteLabels { method: method.to_owned(), route: route.to_owned() };
        self.latency.get_or_create(&labels).observe(seconds);
    }

    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_shows_up_as_a_counter_and_a_histogram() {
        let metrics = Metrics::new();
        metrics.observe("GET", "/healthz", 200, 0.003);
        let text = metrics.render().unwrap();
        assert!(
            text.contains(
                r#"jobportal_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"jobportal_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"} 1"#)
            || text.contains(r#"jobportal_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"} 1"#), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
