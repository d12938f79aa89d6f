//! Parse + canonical write over the realistic corpus (`tests/corpus.txt`),
//! and the canonical reader (the consent widget's) over the canonical forms.
//! Run with `cargo bench -p espi-scope`; prints nanoseconds per scope.

use std::hint::black_box;
use std::time::Instant;

fn corpus() -> Vec<String> {
    include_str!("../tests/corpus.txt")
        .lines()
        .filter_map(|l| l.strip_prefix("in: "))
        .map(str::to_string)
        .collect()
}

fn main() {
    let inputs = corpus();
    let bytes: usize = inputs.iter().map(String::len).sum();
    // Warm up.
    for s in &inputs {
        black_box(espi_scope::parse(black_box(s)).value.to_string());
    }
    let rounds = 20_000usize;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..rounds / 5 {
            for s in &inputs {
                let parsed = espi_scope::parse(black_box(s));
                black_box(parsed.value.to_string());
                black_box(parsed.diagnostics.len());
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / ((rounds / 5) * inputs.len()) as f64;
        best = best.min(ns);
    }
    let mean_len = bytes as f64 / inputs.len() as f64;
    println!(
        "decode: {} scopes (mean {:.0} bytes), parse+write best of 5: {:.0} ns/scope ({:.1} MB/s)",
        inputs.len(),
        mean_len,
        best,
        mean_len / best * 1e3
    );

    // The canonical reader, over the canonical form of each scope read
    // without error.
    let canonical: Vec<String> = inputs
        .iter()
        .map(|s| espi_scope::parse(s))
        .filter(|p| !p.has_errors())
        .flat_map(|p| p.value.scopes)
        .map(|s| s.to_string())
        .collect();
    assert!(
        canonical
            .iter()
            .all(|c| espi_scope::canonical::read(c).is_some())
    );
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..rounds / 5 {
            for c in &canonical {
                black_box(espi_scope::canonical::read(black_box(c)));
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / ((rounds / 5) * canonical.len()) as f64;
        best = best.min(ns);
    }
    println!(
        "canonical::read: {} canonical scopes, best of 5: {:.0} ns/scope",
        canonical.len(),
        best
    );
}
