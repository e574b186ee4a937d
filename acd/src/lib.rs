//! Automatic call distribution engine (sans-IO). Filled in by the ACD issue.
