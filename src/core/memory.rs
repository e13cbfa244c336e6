//! Where the process's memory goes, measured: the resident set split by what is mapped
//! (`/proc/self/smaps`: anonymous memory, and files under directories a caller names, such as
//! the search index or the models), the bytes the allocator has handed out and not had back
//! (when the binary installs [`Counting`]), and the sizes components report of themselves.
//! `serve` logs one `memory` line after each start phase and one as it stops.

use std::alloc::{GlobalAlloc, Layout};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// Counters of live heap bytes, spread over cache lines so threads rarely share one.
const SHARDS: usize = 16;

#[repr(align(64))]
struct Shard(AtomicIsize);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Shard = Shard(AtomicIsize::new(0));
static LIVE: [Shard; SHARDS] = [ZERO; SHARDS];
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes in blocks of [`LARGE`] or more (counted in [`LIVE`] too): such blocks come straight
/// from the kernel and are resident only where written (SurrealDB reserves its memtable so).
static LARGE_LIVE: AtomicIsize = AtomicIsize::new(0);

/// A block this large or larger is counted apart.
pub const LARGE: usize = 16 << 20;

#[inline]
fn count_large(size: usize, sign: isize) {
    if size >= LARGE {
        LARGE_LIVE.fetch_add(sign * size as isize, Ordering::Relaxed);
    }
}

/// A shard for the calling thread: threads run on stacks of their own, so the address of a
/// local picks one per thread (any shard is correct; the sum is what counts).
#[inline]
fn shard() -> &'static AtomicIsize {
    let local = 0u8;
    let at = std::ptr::addr_of!(local) as usize;
    &LIVE[(at >> 20) % SHARDS].0
}

/// A global allocator that counts the bytes it has handed out and not had back, around
/// another allocator: `#[global_allocator] static A: Counting<mimalloc::MiMalloc> = …`.
pub struct Counting<A>(pub A);

// SAFETY: every call is passed on to the inner allocator unchanged; only counters are added.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let ptr = unsafe { self.0.alloc(layout) };
        if !ptr.is_null() {
            shard().fetch_add(layout.size() as isize, Ordering::Relaxed);
            count_large(layout.size(), 1);
            if !COUNTING.load(Ordering::Relaxed) {
                COUNTING.store(true, Ordering::Relaxed);
            }
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let ptr = unsafe { self.0.alloc_zeroed(layout) };
        if !ptr.is_null() {
            shard().fetch_add(layout.size() as isize, Ordering::Relaxed);
            count_large(layout.size(), 1);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { self.0.dealloc(ptr, layout) };
        shard().fetch_sub(layout.size() as isize, Ordering::Relaxed);
        count_large(layout.size(), -1);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let new = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            shard().fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
            count_large(layout.size(), -1);
            count_large(new_size, 1);
        }
        new
    }
}

/// Bytes handed out by the allocator and not freed yet, when the binary counts them.
pub fn heap_bytes() -> Option<u64> {
    if !COUNTING.load(Ordering::Relaxed) {
        return None;
    }
    let total: isize = LIVE.iter().map(|s| s.0.load(Ordering::Relaxed)).sum();
    Some(total.max(0) as u64)
}

/// Of [`heap_bytes`], the bytes in blocks of [`LARGE`] or more.
pub fn large_heap_bytes() -> Option<u64> {
    heap_bytes().map(|_| LARGE_LIVE.load(Ordering::Relaxed).max(0) as u64)
}

/// The heap of a hash table (std's `HashMap` or hashbrown's) whose `capacity()` is `capacity`,
/// with slots of `slot` bytes: its buckets (a power of two, seven eighths of them usable once
/// there are eight or more), a control byte per bucket and one group of control bytes more.
pub fn hash_table_bytes(capacity: usize, slot: usize) -> u64 {
    let buckets = match capacity {
        0 => return 0,
        1..7 => capacity + 1,
        _ => capacity / 7 * 8,
    };
    (buckets * (slot + 1) + 16) as u64
}

/// The resident set, split by mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resident {
    /// All of it (VmRSS).
    pub total: u64,
    /// The most it has been (VmHWM).
    pub peak: u64,
    /// Anonymous memory: the heap, the allocator's reserve, stacks.
    pub anon: u64,
    /// Files under each named directory, in the order given.
    pub dirs: Vec<(&'static str, u64)>,
    /// Every other mapped file (the binary itself, shared libraries).
    pub other_files: u64,
}

/// The resident set now, with the files under `dirs` counted per label. `None` where the
/// kernel does not say (not Linux).
pub fn resident(dirs: &[(&'static str, PathBuf)]) -> Option<Resident> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().strip_suffix("kB")?.trim().parse().ok())
            .unwrap_or(0)
            * 1024
    };
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let dirs: Vec<(&'static str, PathBuf)> = dirs
        .iter()
        .map(|(label, dir)| (*label, std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone())))
        .collect();
    let mut out = Resident {
        total: kib("VmRSS:"),
        peak: kib("VmHWM:"),
        dirs: dirs.iter().map(|(label, _)| (*label, 0)).collect(),
        ..Resident::default()
    };
    // Each mapping is a header line (address range, then its path when it maps a file), then
    // `Key: value kB` lines.
    let mut file: Option<&Path> = None;
    for line in smaps.lines() {
        let mut parts = line.split_ascii_whitespace();
        let first = parts.next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            // Header: range perms offset dev inode [path]
            let path = parts.nth(4);
            file = path.filter(|p| p.starts_with('/')).map(Path::new);
            continue;
        }
        if first != "Rss:" {
            continue;
        }
        let bytes = parts.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024;
        match file {
            None => out.anon += bytes,
            Some(path) => match dirs.iter().position(|(_, dir)| path.starts_with(dir)) {
                Some(at) => out.dirs[at].1 += bytes,
                None => out.other_files += bytes,
            },
        }
    }
    Some(out)
}

/// Bytes as MiB, rounded to one decimal (for log fields).
pub fn mib(bytes: u64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
}

/// The directories whose mapped files [`log`] counts apart, named once at start.
static DIRS: OnceLock<Vec<(&'static str, PathBuf)>> = OnceLock::new();

/// Names the directories whose mapped files [`log`] counts apart (the first call wins).
pub fn name_dirs(dirs: Vec<(&'static str, PathBuf)>) {
    let _ = DIRS.set(dirs);
}

/// The process's memory as (kind, bytes) pairs for `/metrics` (see
/// [`crate::core::metrics::MemoryLabels`]): the resident set and its split, the heap when
/// counted, then `components` as `heap_part_<label>`. Labels become lower snake case
/// (`HNSW graph`: `heap_part_hnsw_graph`).
pub fn gauges(components: &[(&'static str, u64)]) -> Vec<(String, u64)> {
    let snake =
        |label: &str| label.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    let mut parts = Vec::new();
    if let Some(resident) = resident(DIRS.get().map_or(&[][..], Vec::as_slice)) {
        parts.push(("resident".to_owned(), resident.total));
        parts.push(("resident_peak".to_owned(), resident.peak));
        parts.push(("resident_anonymous".to_owned(), resident.anon));
        for (label, bytes) in &resident.dirs {
            parts.push((
                format!("resident_files_{}", snake(label.trim_end_matches(" files"))),
                *bytes,
            ));
        }
        parts.push(("resident_other_files".to_owned(), resident.other_files));
    }
    if let (Some(heap), Some(large)) = (heap_bytes(), large_heap_bytes()) {
        parts.push(("heap".to_owned(), heap));
        parts.push(("heap_large_blocks".to_owned(), large));
    }
    for (label, bytes) in components {
        parts.push((format!("heap_part_{}", snake(label)), *bytes));
    }
    parts
}

/// One line: the resident set and its split, the heap by size of block, then `components`
/// (the heap parts of the program report holding), in MiB.
pub fn breakdown(components: &[(&'static str, u64)]) -> Option<(Resident, String)> {
    let resident = resident(DIRS.get().map_or(&[][..], Vec::as_slice))?;
    let mut line = format!(
        "rss {:.1} (peak {:.1}) = anon {:.1}",
        mib(resident.total),
        mib(resident.peak),
        mib(resident.anon)
    );
    for (label, bytes) in &resident.dirs {
        line.push_str(&format!(" + {label} {:.1}", mib(*bytes)));
    }
    line.push_str(&format!(" + other files {:.1}", mib(resident.other_files)));
    if let (Some(heap), Some(large)) = (heap_bytes(), large_heap_bytes()) {
        let small = heap.saturating_sub(large);
        line.push_str(&format!(
            "; heap {:.1} in blocks under {} MiB (anon beyond it {:.1}: the allocator's free \
             pages, stacks, the written part of larger blocks) + {:.1} in larger blocks \
             (resident where written)",
            mib(small),
            LARGE >> 20,
            mib(resident.anon.saturating_sub(small)),
            mib(large)
        ));
    }
    if !components.is_empty() {
        line.push_str("; of the heap");
        for (i, (label, bytes)) in components.iter().enumerate() {
            line.push_str(if i == 0 { " " } else { ", " });
            line.push_str(&format!("{label} {:.1}", mib(*bytes)));
        }
    }
    line.push_str(" MiB");
    Some((resident, line))
}

/// Logs the memory after `phase` (a `memory` line with `phase`, `rss_mib` and `breakdown`).
pub fn log(phase: &str, components: &[(&'static str, u64)]) {
    if let Some((resident, breakdown)) = breakdown(components) {
        tracing::info!(
            phase,
            rss_mib = mib(resident.total),
            peak_mib = mib(resident.peak),
            heap_mib = heap_bytes().map(mib),
            breakdown,
            "memory"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_table_is_counted_by_its_buckets() {
        let map: std::collections::HashMap<u64, u64> = (0..1000).map(|i| (i, i)).collect();
        assert_eq!(map.capacity(), 1792);
        assert_eq!(hash_table_bytes(map.capacity(), 16), 2048 * 17 + 16);
        assert_eq!(hash_table_bytes(3, 16), 4 * 17 + 16);
        assert_eq!(hash_table_bytes(0, 16), 0, "an empty table allocates nothing");
    }

    #[test]
    fn the_resident_set_splits_into_anonymous_memory_and_files_under_named_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mapped");
        let bytes = vec![7u8; 4 << 20];
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the file is private to this test and not changed while mapped.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes.len(),
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        assert_ne!(map, libc::MAP_FAILED);
        // Touch every page so it is resident.
        let slice = unsafe { std::slice::from_raw_parts(map as *const u8, bytes.len()) };
        let sum: u64 = slice.iter().step_by(4096).map(|&b| b as u64).sum();
        assert_eq!(sum, 7 * 1024);
        let resident = resident(&[("test files", dir.path().to_path_buf())]).unwrap();
        // SAFETY: mapped above, not used after.
        unsafe { libc::munmap(map, bytes.len()) };
        let mapped = resident.dirs[0].1;
        assert!(mapped >= 4 << 20, "{resident:?}");
        assert!(resident.anon > 0 && resident.total >= resident.anon + mapped, "{resident:?}");
        assert!(resident.peak >= resident.total, "{resident:?}");
    }
}
