//! Tones generated as 8 kHz samples: the confirmation beep of a feature code, and test audio.
//!
//! Prompts and music come from WAV files ([`crate::wav`]); only signals simple enough to be
//! described by a frequency and a duration are synthesised here.

use std::f64::consts::TAU;
use std::sync::Arc;
use std::time::Duration;

use crate::g711::SAMPLE_RATE_HZ;

/// A comfortable level for tones: about -10 dBm0 for a sine, well clear of clipping.
pub const DEFAULT_AMPLITUDE: i16 = 8000;

/// Number of 8 kHz samples in `duration` (rounded down).
pub fn samples_in(duration: Duration) -> usize {
    let samples = duration.as_micros() * u128::from(SAMPLE_RATE_HZ) / 1_000_000;
    usize::try_from(samples).unwrap_or(usize::MAX)
}

/// A sine of `frequency_hz` lasting `duration`, with peak `amplitude`, starting at phase 0.
///
/// Frequencies at or above 4000 Hz (the Nyquist limit at 8 kHz) alias; callers stay well
/// below, as telephone tones do.
pub fn sine(frequency_hz: f64, duration: Duration, amplitude: i16) -> Vec<i16> {
    let step = TAU * frequency_hz / f64::from(SAMPLE_RATE_HZ);
    let amplitude = f64::from(amplitude);
    (0..samples_in(duration))
        // `as` saturates, and |sin| <= 1 keeps the value within the amplitude anyway.
        .map(|n| (amplitude * (step * n as f64).sin()).round() as i16)
        .collect()
}

/// `duration` of silence.
pub fn silence(duration: Duration) -> Vec<i16> {
    vec![0; samples_in(duration)]
}

/// The feature-code confirmation: three short 1 kHz beeps, 100 ms on, 100 ms off (the
/// "stutter" most PBXs answer a successful `*` code with), about half a second in all.
pub fn confirmation() -> Arc<[i16]> {
    let beep = sine(1000.0, Duration::from_millis(100), DEFAULT_AMPLITUDE);
    let gap = silence(Duration::from_millis(100));
    let mut out = Vec::with_capacity(5 * beep.len());
    for i in 0..3 {
        if i > 0 {
            out.extend_from_slice(&gap);
        }
        out.extend_from_slice(&beep);
    }
    out.into()
}

/// The share of `samples`' energy at `frequency_hz` (8 kHz): a Goertzel filter over 100 ms
/// windows (10 Hz bins), their powers summed and divided by the total energy. A pure tone
/// at that frequency gives about 1; silence gives 0. Tests use it to say who hears whom.
pub fn share(samples: &[i16], frequency_hz: f64) -> f64 {
    let k = 2.0 * (TAU * frequency_hz / f64::from(SAMPLE_RATE_HZ)).cos();
    let (mut tone, mut energy) = (0.0, 0.0);
    for w in samples.chunks(800) {
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for x in w {
            let x = f64::from(*x);
            energy += x * x;
            let s0 = x + k * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        tone += (s1 * s1 + s2 * s2 - k * s1 * s2) / (w.len() as f64 / 2.0);
    }
    if energy > 0.0 {
        tone / energy
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_the_sampling_rate() {
        assert_eq!(samples_in(Duration::from_millis(20)), 160);
        assert_eq!(sine(440.0, Duration::from_millis(250), 1000).len(), 2000);
        assert_eq!(silence(Duration::from_secs(1)), vec![0; 8000]);
        assert_eq!(confirmation().len(), 4000);
    }

    #[test]
    fn a_sine_has_its_frequency_and_peak() {
        // 1 kHz at 8 kHz: eight samples per period.
        let s = sine(1000.0, Duration::from_millis(1), 1000);
        assert_eq!(s, vec![0, 707, 1000, 707, 0, -707, -1000, -707]);
        // Zero crossings of 400 Hz over one second: two per period.
        let s = sine(400.0, Duration::from_secs(1), DEFAULT_AMPLITUDE);
        let crossings = s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!((798..=800).contains(&crossings), "{crossings}");
        assert_eq!(s.iter().copied().max(), Some(DEFAULT_AMPLITUDE));
    }
}
