//! The README's table of API areas (printed by `scripts/area-table`) agrees with `spec/`: every
//! area is listed with its handle and endpoint count, and the total adds up.

use dingtalk_tests::load_spec;

#[test]
fn the_area_table_matches_the_spec() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("read README.md");
    let spec = load_spec();
    let mut total = 0;
    for area in spec.areas.iter().filter(|a| !a.endpoints.is_empty()) {
        let file = area.file.trim_start_matches("spec/");
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{file}` |")))
            .unwrap_or_else(|| panic!("README.md lists no row for {file}; run scripts/area-table"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[2], format!("`client.{}()`", area.name), "{file}");
        assert_eq!(
            cells[4],
            area.endpoints.len().to_string(),
            "{file}: endpoint count (run scripts/area-table)"
        );
        total += area.endpoints.len();
    }
    assert!(
        readme.contains(&format!("| **total** | | | **{total}** | |")),
        "README.md's total is not {total} (run scripts/area-table)"
    );
}
