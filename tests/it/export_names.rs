//! `tagsync export` never writes a file that fails `tagsync validate`.
//!
//! Names made in the admin console can carry what tagsync itself would never send:
//! surrounding spaces, control characters. In a group tagsync does not manage they are
//! exported as they are and validate (tagsync only compares them with the corp); in a
//! group it manages, export stops, names the items and writes nothing.

use crate::common;

use common::bin::{Fixture, both, text};
use common::{group, small_seed, tag};
use tagsync::emulator::SeedGroup;

/// The small seed plus an admin-console group whose names have a trailing space, an
/// escape character and a zero-width space.
fn console_names_seed() -> Vec<SeedGroup> {
    let mut seed = small_seed();
    seed.push(group(
        "etGroupConsole000000000000000000",
        "地区 ",
        5,
        None,
        vec![
            tag("etTagEast0000000000000000000000", "华东\u{1b}", 1, None),
            tag("etTagNorth000000000000000000000", "\u{200b}华北", 0, None),
        ],
    ));
    seed
}

#[test]
fn console_names_in_unmanaged_groups_export_to_a_file_that_validates_and_plans_to_zero() {
    let fx = Fixture::with_seed(console_names_seed());
    fx.adopt_ours();
    let out = fx.run(&["export", "-o", "exported.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let exported = std::fs::read_to_string(fx.dir.path().join("exported.yaml")).expect("written");
    assert!(exported.contains("managed: false"), "{exported}");

    let validate = std::process::Command::new(env!("CARGO_BIN_EXE_tagsync"))
        .args(["validate", "-c", "exported.yaml"])
        .current_dir(fx.dir.path())
        .output()
        .expect("run tagsync validate");
    assert_eq!(validate.status.code(), Some(0), "{}", both(&validate));
    let back = tagsync::desired::load_str(&exported, "exported.yaml")
        .unwrap_or_else(|d| panic!("{d}\n{exported}"));
    let console = back
        .groups
        .iter()
        .find(|g| g.name == "地区 ")
        .expect("the console group, trailing space kept");
    assert!(!console.managed);
    let names: Vec<&str> = console.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["华东\u{1b}", "\u{200b}华北"]);

    let plan = fx.run(&["plan", "-c", "exported.yaml", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", both(&plan));
    // Nothing from the corp reaches the terminal raw.
    assert!(!text(&plan.stdout).contains('\u{1b}'), "{}", both(&plan));
}

#[test]
fn a_name_tagsync_could_not_send_in_a_managed_group_stops_the_export() {
    let mut seed = small_seed();
    // A tag of our group, renamed in the console with a trailing space.
    seed[0].tag[0].name = "VIP ".into();
    let fx = Fixture::with_seed(seed);
    fx.adopt_ours();

    let out = fx.run(&["export", "-o", "exported.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        !fx.dir.path().join("exported.yaml").exists(),
        "nothing written"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("nothing written"), "{stderr}");
    assert!(
        stderr.contains("tag name `VIP ` has leading or trailing whitespace"),
        "names the item: {stderr}"
    );
    assert!(
        stderr.contains("admin console"),
        "says how to fix: {stderr}"
    );

    // To stdout: nothing either.
    let out = fx.run(&["export"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(out.stdout.is_empty(), "{}", both(&out));
    let filters = fx.filters();
    let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(text(&out.stderr));
    });
}
