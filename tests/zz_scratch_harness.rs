mod support;
use support::DirectusInstance;
use std::time::{Duration, Instant};

#[test]
fn survives_spawning_thread_exit() {
    let inst = std::thread::spawn(DirectusInstance::start_without_extension).join().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(inst.get("/server/info")["version"], "10.13.1");
}

#[test]
fn hold_forever_for_kill_test() {
    if std::env::var("SCRATCH_HOLD").is_err() { return; }
    let inst = DirectusInstance::start();
    eprintln!("PID {}", inst.pid());
    std::thread::sleep(Duration::from_secs(600));
}

#[test]
fn many_parallel() {
    let t = Instant::now();
    let hs: Vec<_> = (0..6).map(|i| std::thread::spawn(move || {
        let a = Instant::now();
        let inst = if i % 2 == 0 { DirectusInstance::start() } else { DirectusInstance::start_without_extension() };
        let started = a.elapsed();
        let _ = inst.get("/collections");
        std::thread::sleep(Duration::from_millis(500));
        (i, started)
    })).collect();
    for h in hs { eprintln!("{:?}", h.join().unwrap()); }
    eprintln!("6 instances, bounded, in {:.2?}", t.elapsed());
}
