//! The process's file-descriptor limit. Every SIP TCP or HTTP connection and every RTP
//! socket (four per anchored call) is a descriptor; the default soft limit (often 1,024)
//! is far below what the switch is configured to hold, so it is raised to the hard limit
//! at start-up, and a configuration that cannot fit is reported.

use crate::config::Config;

/// Descriptors kept for everything else: the database, log files, listeners, prompts.
const RESERVE: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard one and returns the connection caps that
/// fit in it: `(sip tcp, http)`. The two listeners get at most half of the descriptors
/// (the rest stay for RTP sockets and the store); configured caps beyond that are scaled
/// down, with a warning, so that a flood of connections cannot take the descriptors the
/// API and new calls need.
pub fn fit(config: &Config) -> (usize, usize) {
    let (sip, http) = (config.sip.tcp.max_connections, config.http.max_connections);
    let Some(limit) = raise_soft_to_hard() else {
        return (sip, http);
    };
    let (fitted_sip, fitted_http) = share(limit, sip, http);
    if (fitted_sip, fitted_http) != (sip, http) {
        tracing::warn!(
            limit,
            sip_tcp = fitted_sip,
            http = fitted_http,
            "the file-descriptor limit is low for sip.tcp_max_connections and \
             http.max_connections: caps lowered to fit half of it"
        );
    } else {
        tracing::info!(limit, "file-descriptor limit");
    }
    (fitted_sip, fitted_http)
}

/// The caps scaled down, in proportion and to at least 1 each, so that together they use
/// at most half of `limit` less [`RESERVE`].
fn share(limit: u64, sip: usize, http: usize) -> (usize, usize) {
    let budget = (limit.saturating_sub(RESERVE) / 2).max(2) as usize;
    let total = sip + http;
    if total <= budget {
        return (sip, http);
    }
    let scale = |n: usize| ((n as u128 * budget as u128 / total as u128) as usize).max(1);
    (scale(sip), scale(http))
}

#[cfg(unix)]
fn raise_soft_to_hard() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    Some(lim.rlim_cur)
}

#[cfg(not(unix))]
fn raise_soft_to_hard() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn caps_fit_half_the_descriptors() {
        assert_eq!(share(1_048_576, 2048, 512), (2048, 512));
        assert_eq!(share(1024, 2048, 512), (384, 96));
        assert_eq!(share(10, 2048, 512), (1, 1));
    }
}
