//! Counters and latency histograms, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

type Labels = Vec<(String, String)>;

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    counters: BTreeMap<String, (String, BTreeMap<Labels, u64>)>,
}

/// A registry of the server's metrics. Cheap to update from many tasks at once.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        // A panic while holding the lock cannot leave counters inconsistent enough to matter:
        // keep counting rather than poison every later request.
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Records one answered request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.with(|inner| {
            *inner
                .requests
                .entry((route.to_owned(), method.to_owned(), status))
                .or_default() += 1;
            let histogram = inner.latency.entry(route.to_owned()).or_default();
            let seconds = elapsed.as_secs_f64();
            for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            histogram.count += 1;
            histogram.sum += seconds;
        });
    }

    /// Adds one to counter `name` with `labels`; `help` describes the counter.
    pub fn increment(&self, name: &str, help: &str, labels: &[(&str, &str)]) {
        self.with(|inner| {
            let (_, series) = inner
                .counters
                .entry(name.to_owned())
                .or_insert_with(|| (help.to_owned(), BTreeMap::new()));
            let key = labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            *series.entry(key).or_default() += 1;
        });
    }

    /// The value of counter `name` with exactly `labels` (0 when never incremented).
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.with(|inner| {
            let key: Labels = labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            inner
                .counters
                .get(name)
                .and_then(|(_, s)| s.get(&key))
                .copied()
                .unwrap_or(0)
        })
    }

    /// Renders every metric in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        self.with(|inner| {
            let mut out = String::new();
            out.push_str("# HELP rms_http_requests_total HTTP requests answered, by route, method and status.\n");
            out.push_str("# TYPE rms_http_requests_total counter\n");
            for ((route, method, status), count) in &inner.requests {
                let _ = writeln!(
                    out,
                    "rms_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                    escape(route),
                    escape(method)
                );
            }
            out.push_str("# HELP rms_http_request_duration_seconds Time to answer HTTP requests, by route.\n");
            out.push_str("# TYPE rms_http_request_duration_seconds histogram\n");
            for (route, h) in &inner.latency {
                let route = escape(route);
                for (bound, count) in BUCKETS.iter().zip(h.buckets) {
                    let _ = writeln!(
                        out,
                        "rms_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "rms_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(out, "rms_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
                let _ = writeln!(out, "rms_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
            }
            for (name, (help, series)) in &inner.counters {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} counter");
                for (labels, count) in series {
                    let labels: Vec<String> =
                        labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
                    let _ = writeln!(out, "{name}{{{}}} {count}", labels.join(","));
                }
            }
            out
        })
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let metrics = Metrics::new();
        metrics.observe_request("/healthz", "GET", 200, Duration::from_millis(3));
        metrics.observe_request("/healthz", "GET", 200, Duration::from_millis(30));
        metrics.increment(
            "rms_denials_total",
            "Access denied, by service.",
            &[("service", "SubEnrollService")],
        );
        let text = metrics.render();
        assert!(text.contains(
            "rms_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "rms_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "rms_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.05\"} 2"
        ));
        assert!(text.contains("rms_denials_total{service=\"SubEnrollService\"} 1"));
        assert_eq!(
            metrics.counter("rms_denials_total", &[("service", "SubEnrollService")]),
            1
        );
        assert_eq!(
            metrics.counter("rms_denials_total", &[("service", "Other")]),
            0
        );
    }
}
