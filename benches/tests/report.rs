//! The bench report reads criterion's `estimates.json` as criterion writes
//! it: the slope when criterion sampled linearly, else the mean, and only
//! from this run.

#![allow(missing_docs, dead_code)]

#[path = "../report/mod.rs"]
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// As criterion 0.7 wrote them here (`tally_verified/1000` and
/// `tally_reference_each/100000`), cut to the fields around the ones read.
const LINEAR: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1068.18,"upper_bound":1189.73},"point_estimate":1125.27,"standard_error":31.16},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1003.46,"upper_bound":1097.73},"point_estimate":1022.91,"standard_error":21.31},"slope":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1100.97,"upper_bound":1329.60},"point_estimate":1214.06,"standard_error":58.49},"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":152.71,"upper_bound":272.66},"point_estimate":222.58,"standard_error":30.75}}"#;
const FLAT: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":5467832515.4,"upper_bound":5872381655.9},"point_estimate":5677588149.0,"standard_error":103686884.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":5364779074.0,"upper_bound":5971310543.0},"point_estimate":5786198557.0,"standard_error":174824582.7},"slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":201045998.6,"upper_bound":412095803.1},"point_estimate":347086221.6,"standard_error":53079381.5}}"#;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bench-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn write(dir: &Path, group: &str, n: usize, text: &str) {
    let d = dir.join(group).join(n.to_string()).join("new");
    std::fs::create_dir_all(&d).expect("scratch dir");
    std::fs::write(d.join("estimates.json"), text).expect("estimates");
}

#[test]
fn the_report_takes_the_slope_else_the_mean() {
    let dir = scratch("shape");
    let since = SystemTime::now() - Duration::from_secs(60);
    write(&dir, "tally_verified", 1000, LINEAR);
    write(&dir, "tally_reference_each", 100000, FLAT);
    assert_eq!(
        report::estimate_in(&dir, "tally", "verified", 1000, since),
        Some(1214.06)
    );
    assert_eq!(
        report::estimate_in(&dir, "tally", "reference_each", 100000, since),
        Some(5677588149.0)
    );
    // Another size, another group: not there.
    assert_eq!(
        report::estimate_in(&dir, "tally", "verified", 100, since),
        None
    );
    assert_eq!(
        report::estimate_in(&dir, "election", "verified", 1000, since),
        None
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_report_ignores_estimates_of_an_earlier_run_and_other_shapes() {
    let dir = scratch("stale");
    write(&dir, "tally_verified", 1000, LINEAR);
    let later = SystemTime::now() + Duration::from_secs(3600);
    assert_eq!(
        report::estimate_in(&dir, "tally", "verified", 1000, later),
        None
    );
    let since = SystemTime::now() - Duration::from_secs(60);
    // A substring search would find a number in each of these.
    for text in [
        r#"{"mean":{"point_estimate":"12"}}"#,
        r#"{"slope":null,"median":{"point_estimate":12.0}}"#,
        r#"{"mean":{"point_estimate":12.0}"#,
        "[]",
    ] {
        write(&dir, "tally_verified", 1000, text);
        assert_eq!(
            report::estimate_in(&dir, "tally", "verified", 1000, since),
            None,
            "{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
