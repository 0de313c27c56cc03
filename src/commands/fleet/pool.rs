//! A bounded pool of jobs for the fleet: job `i` of `0..n`, at most `concurrency` at once,
//! each in its own task, so that a job that panics fails alone and its worker goes on
//! with the next. Results are handed over as each job ends (not gathered at the end), so
//! the caller can render and drop them while the others run.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `job(i)` for every `i` in `0..n`, at most `concurrency` at once, in the order of
/// `i` as workers free up; `done(i, result)` takes each result as its job ends: `Err`
/// with the reason when the job panicked (or was cancelled). Returns when every job is
/// done.
pub async fn run_each<R, J, Fut, D>(n: usize, concurrency: usize, job: J, done: D)
where
    J: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
    D: Fn(usize, Result<R, String>) + Send + Sync + 'static,
{
    let (job, done) = (Arc::new(job), Arc::new(done));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (job, done, next) = (job.clone(), done.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                let result = tokio::spawn(job(i))
                    .await
                    .map_err(|e| format!("this corp's run stopped: {}", reason(e)));
                done(i, result);
            }
        });
    }
    while let Some(joined) = workers.join_next().await {
        if let Err(e) = joined {
            tracing::error!("a fleet worker stopped: {}", reason(e));
        }
    }
}

/// What stopped a task: its panic's message, or that it was cancelled.
fn reason(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "it was cancelled".into();
    }
    let payload = e.into_panic();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned());
    match message {
        Some(m) => format!("it panicked: {m}"),
        None => "it panicked".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_fails_alone_and_its_worker_goes_on() {
        let results = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (r, f, m) = (results.clone(), in_flight.clone(), most.clone());
        run_each(
            12,
            3,
            move |i| {
                let (f, m) = (f.clone(), m.clone());
                async move {
                    let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    f.fetch_sub(1, Ordering::SeqCst);
                    if i % 4 == 1 {
                        panic!("corp {i} broke");
                    }
                    i * 10
                }
            },
            move |i, result| r.lock().unwrap().push((i, result)),
        )
        .await;
        let mut results = std::mem::take(&mut *results.lock().unwrap());
        results.sort_by_key(|(i, _)| *i);
        assert_eq!(results.len(), 12, "{results:?}");
        for (i, result) in results {
            if i % 4 == 1 {
                assert_eq!(
                    result,
                    Err(format!(
                        "this corp's run stopped: it panicked: corp {i} broke"
                    ))
                );
            } else {
                assert_eq!(result, Ok(i * 10));
            }
        }
        // `concurrency` ran at once, never more (each job sleeps, so they overlap).
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn one_worker_runs_every_job_past_panics_and_none_is_fine() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        run_each(
            4,
            1,
            |i| async move {
                assert!(i != 0, "the first corp panics");
                i
            },
            move |i, result| s.lock().unwrap().push((i, result.is_ok())),
        )
        .await;
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(0, false), (1, true), (2, true), (3, true)]
        );
        run_each(0, 8, |i| async move { i }, |_, _| panic!("no job")).await;
    }
}
