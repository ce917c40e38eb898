//! The layering rules, read from `cargo metadata`: a crate depends only on layers below
//! it, and on no runtime crate outside its allowance.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// Bottom up; crates in one layer are peers and may not depend on each other.
const LAYERS: &[&[&str]] = &[
    &["ws-frame"],
    &["ws-handshake"],
    &["ws-stream"],
    &["ws-server", "ws-client"],
    &["ws-tls"],
    // Above the async server, and outside the facade: see `the_facade_leaves_the_cluster_out`.
    &["ws-cluster"],
    &["websockets"],
];

/// The runtime dependencies from outside the workspace each crate may have.
fn allowed_external(krate: &str) -> &'static [&'static str] {
    match krate {
        "ws-handshake" => &["sha1_smol", "base64", "getrandom"],
        // zlib-rs is the crate flate2 compresses with, used directly because flate2
        // fixes zlib's memory level at 8 (about 98 KiB more per connection).
        // tokio and the futures traits only behind the `tokio` feature; see
        // `optional_only`.
        "ws-stream" => &[
            "getrandom",
            "simdutf8",
            "zlib-rs",
            "tokio",
            "futures-core",
            "futures-sink",
        ],
        // hyper and hyper-util only behind the `hyper` feature, for upgrades inside a
        // hyper 1 server.
        "ws-server" => &["getrandom", "tokio", "hyper", "hyper-util"],
        // base64 for `Proxy-Authorization`, compiled in already through ws-handshake.
        "ws-client" => &["getrandom", "base64", "tokio"],
        // tokio and tokio-rustls (rustls' own tokio adapter, on the same rustls and
        // `ring` provider) only behind the `tokio` feature, for wss on tokio.
        "ws-tls" => &[
            "rustls",
            "webpki-roots",
            "rustls-pki-types",
            "tokio",
            "tokio-rustls",
        ],
        // The brokers' clients, each behind its feature (see `OPTIONAL_ONLY`), and the
        // stream trait their subscriptions are read through. tokio is not optional
        // here: the crate is the async server's, and no default build compiles it.
        "ws-cluster" => &["tokio", "async-nats", "redis", "futures-util"],
        _ => &[],
    }
}

/// Allowed runtime dependencies that must stay optional (behind a cargo feature, off
/// by default), so that the default build never compiles them.
const OPTIONAL_ONLY: &[&str] = &[
    "tokio",
    "futures-core",
    "futures-sink",
    "tokio-rustls",
    "hyper",
    "hyper-util",
    "async-nats",
    "redis",
    "futures-util",
];

/// Crates made for the async runtime, which none of the facade's builds compiles:
/// tokio may be a plain dependency of theirs.
const ASYNC_ONLY: &[&str] = &["ws-cluster"];

/// Workspace members that are tools for this repository, not layers: never published,
/// free in their dependencies (they compare us with peers), and depended on by no crate.
const DEV_TOOLS: &[&str] = &["ws-loadgen"];

fn layer_of(krate: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&krate))
}

/// Each workspace crate's runtime (normal, non-dev, non-build) dependencies, the dev
/// tools left out.
fn runtime_dependencies() -> BTreeMap<String, Vec<String>> {
    let mut crates = workspace();
    crates.retain(|krate, _| !DEV_TOOLS.contains(&krate.as_str()));
    crates
        .into_iter()
        .map(|(name, member)| (name, member.dependencies))
        .collect()
}

/// What the architecture rules read of a workspace member.
struct Member {
    dependencies: Vec<String>,
    /// The runtime dependencies behind a cargo feature.
    optional: Vec<String>,
    /// False for `publish = false`.
    publishable: bool,
}

/// Every workspace member, dev tools included.
fn workspace() -> BTreeMap<String, Member> {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints json");
    let mut crates = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name").to_owned();
        let runtime: Vec<&Value> = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|dependency| dependency["kind"].is_null())
            .collect();
        let name_of = |dependency: &&Value| dependency["name"].as_str().expect("name").to_owned();
        let dependencies = runtime.iter().map(name_of).collect();
        let optional = runtime
            .iter()
            .filter(|dependency| dependency["optional"].as_bool() == Some(true))
            .map(name_of)
            .collect();
        // `publish = false` reads as an empty list of registries.
        let publishable = package["publish"]
            .as_array()
            .is_none_or(|registries| !registries.is_empty());
        crates.insert(
            name,
            Member {
                dependencies,
                optional,
                publishable,
            },
        );
    }
    crates
}

#[test]
fn every_crate_has_a_layer() {
    for krate in runtime_dependencies().keys() {
        assert!(
            layer_of(krate).is_some(),
            "{krate} is not placed in a layer"
        );
    }
}

#[test]
fn crates_depend_only_on_lower_layers() {
    let crates = runtime_dependencies();
    for (krate, dependencies) in &crates {
        let Some(layer) = layer_of(krate) else {
            continue;
        };
        for dependency in dependencies
            .iter()
            .filter(|dependency| crates.contains_key(*dependency))
        {
            let below = layer_of(dependency).is_some_and(|other| other < layer);
            assert!(
                below,
                "{krate} depends on {dependency}, which is not in a lower layer"
            );
        }
    }
}

#[test]
fn runtime_dependencies_stay_within_their_allowance() {
    let crates = runtime_dependencies();
    for (krate, dependencies) in &crates {
        for dependency in dependencies
            .iter()
            .filter(|dependency| !crates.contains_key(*dependency))
        {
            assert!(
                allowed_external(krate).contains(&dependency.as_str()),
                "{krate} gained the runtime dependency {dependency}"
            );
        }
    }
}

#[test]
fn async_runtime_dependencies_stay_optional() {
    for (krate, member) in workspace() {
        if DEV_TOOLS.contains(&krate.as_str()) {
            continue;
        }
        for dependency in member.dependencies.iter().filter(|dependency| {
            OPTIONAL_ONLY.contains(&dependency.as_str())
                && !(ASYNC_ONLY.contains(&krate.as_str()) && *dependency == "tokio")
        }) {
            assert!(
                member.optional.contains(dependency),
                "{krate} depends on {dependency} outside a feature"
            );
        }
    }
}

#[test]
fn the_facade_leaves_the_cluster_out() {
    let crates = runtime_dependencies();
    for krate in ASYNC_ONLY {
        assert!(crates.contains_key(*krate), "{krate} is a workspace member");
        assert!(
            !crates["websockets"]
                .iter()
                .any(|dependency| dependency == krate),
            "the facade depends on {krate}"
        );
    }
}

#[test]
fn the_frame_codec_stands_alone() {
    let crates = runtime_dependencies();
    assert_eq!(crates["ws-frame"], Vec::<String>::new());
}

#[test]
fn dev_tools_are_unpublished_and_depended_on_by_no_crate() {
    let crates = workspace();
    for tool in DEV_TOOLS {
        let member = crates
            .get(*tool)
            .unwrap_or_else(|| panic!("{tool} is not a workspace member"));
        assert!(!member.publishable, "{tool} must have publish = false");
        for (krate, other) in &crates {
            assert!(
                !other
                    .dependencies
                    .iter()
                    .any(|dependency| dependency == tool),
                "{krate} depends on the dev tool {tool}"
            );
        }
    }
}
