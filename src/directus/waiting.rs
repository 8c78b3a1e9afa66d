//! How long a run waited for Directus: the time at least one request was in flight (sent,
//! answered and read), so that concurrent requests count once. What is left of the run's time
//! is the tool's own part.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub(super) struct Waiting {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    in_flight: usize,
    since: Option<Instant>,
    total: Duration,
}

/// Held while a request is in flight.
pub(super) struct InFlight<'a>(&'a Waiting);

impl Waiting {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn enter(&self) -> InFlight<'_> {
        let mut state = self.state();
        if state.in_flight == 0 {
            state.since = Some(Instant::now());
        }
        state.in_flight += 1;
        InFlight(self)
    }

    pub(super) fn total(&self) -> Duration {
        let state = self.state();
        state.total + state.since.map_or(Duration::ZERO, |since| since.elapsed())
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight -= 1;
        if state.in_flight == 0
            && let Some(since) = state.since.take()
        {
            state.total += since.elapsed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_requests_count_once() {
        let waiting = Waiting::default();
        let started = Instant::now();
        let first = waiting.enter();
        std::thread::sleep(Duration::from_millis(30));
        let second = waiting.enter();
        std::thread::sleep(Duration::from_millis(30));
        drop(first);
        drop(second);
        let span = started.elapsed();
        let total = waiting.total();
        // Counted apart, the two would add up to more than the span they share.
        assert!(
            total >= Duration::from_millis(60) && total <= span,
            "{total:?} of {span:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(waiting.total(), total, "nothing in flight: the total stays");
    }
}
