//! Regenerating the whole client from spec/, against a baseline of only reading and parsing
//! the YAML (serde_yaml), measured side by side. The ratio says how much the validation,
//! token emission and formatting add on top of the unavoidable parse.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let mut group = c.benchmark_group("regenerate");
    group.bench_function("baseline: read + parse YAML", |b| {
        b.iter(|| {
            let files = dingtalk_codegen::check::read_dir(&spec).expect("read");
            files
                .iter()
                .map(|f| {
                    serde_yaml::from_str::<serde_yaml::Value>(&f.text)
                        .map(|_| 1)
                        .unwrap_or(0)
                })
                .sum::<usize>()
        })
    });
    group.bench_function("full: load, validate, emit, format", |b| {
        b.iter(|| dingtalk_codegen::generate(&spec).expect("valid spec").len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
