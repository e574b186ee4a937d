//! A test that the crate's top-level modules import each other without a circle (issue:
//! "no import circles in switch"): each module's sources are read, every `crate::name` they
//! mention is an edge, and the graph must be acyclic. A circle is printed when found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sources(path: &Path, out: &mut Vec<String>) {
    if path.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries.flatten() {
                sources(&e.path(), out);
            }
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        if let Ok(text) = std::fs::read_to_string(path) {
            out.push(text);
        }
    }
}

/// Module name -> the modules it mentions as `crate::name`.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(src) else {
        return g;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Some(stem) = p.file_stem().and_then(|s| s.to_str()).map(str::to_string) else {
            continue;
        };
        if stem == "lib" || stem == "main" || stem == "module_graph" {
            continue;
        }
        let mut texts = Vec::new();
        sources(&p, &mut texts);
        let deps = g.entry(stem.clone()).or_default();
        for t in texts {
            for (i, _) in t.match_indices("crate::") {
                let name: String = t[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != stem {
                    deps.insert(name);
                }
            }
        }
    }
    g
}

fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(c) = visit(n, g, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn top_level_modules_import_without_a_circle() {
    let g = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(g.contains_key("engine") && g.contains_key("shard"), "{g:?}");
    if let Some(c) = find_cycle(&g) {
        panic!("import circle: {}", c.join(" -> "));
    }
    // The call engine is a leaf of the I/O modules: it imports none of them.
    for io in [
        "shard",
        "router",
        "distributor",
        "transport",
        "server",
        "api",
        "metrics",
    ] {
        assert!(!g["engine"].contains(io), "engine imports {io}");
    }
}

#[test]
fn a_circle_is_found() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
