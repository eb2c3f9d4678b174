//! Gives memory freed after a large result or message back to the system. glibc's malloc
//! keeps freed memory in its arenas for reuse, so a process stays as large as its largest
//! moment: after a 300 MB result was sent from inside a transaction block (materialised
//! there), the server stayed at 352 MB resident, and `malloc_trim(0)` brought it to 33 MB.
//! A thread checks every few seconds and trims when the arenas hold much memory free,
//! which a steady load of small statements never reaches. (A different allocator would
//! need a C build and a benchmark of its own against every path tuned on glibc.)

use std::time::Duration;

/// How often the free memory is looked at.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Free memory in malloc's arenas above which it is given back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_ABOVE: usize = 64 * 1024 * 1024;

/// Starts the thread that trims malloc's arenas.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_freed_memory() {
    let spawned = std::thread::Builder::new()
        .name("memory-trim".to_owned())
        .spawn(|| {
            loop {
                std::thread::sleep(CHECK_EVERY);
                // SAFETY: both read and adjust only malloc's own state, under its locks.
                let free = unsafe { libc::mallinfo2() }.fordblks;
                if free > TRIM_ABOVE {
                    unsafe { libc::malloc_trim(0) };
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the memory trimming thread");
    }
}

/// Other allocators give memory back by themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_freed_memory() {}
