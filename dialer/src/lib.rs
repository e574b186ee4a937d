//! Outbound preview dialer. Filled in by the preview-dialer issue.
