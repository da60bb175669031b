//! The resampler's filter: a Kaiser-windowed sinc low-pass at the common (upsampled) rate,
//! split into the polyphase branches the streaming loop runs. Computed once per resampler.

/// Passband edge as a fraction of the lower rate's Nyquist frequency: 3.4 kHz of 4 kHz,
/// the edge of the telephone band.
pub(super) const PASSBAND_FRACTION: f64 = 0.85;

/// Stop-band attenuation the Kaiser formulas are asked for. The promise is 80 dB; the
/// extra 10 dB covers the formulas' approximation and the `f32` coefficients.
const DESIGN_ATTENUATION_DB: f64 = 90.0;

/// Branch lengths are rounded up to a multiple of this so the dot product runs in whole
/// SIMD-sized chunks without a scalar tail.
pub(super) const LANES: usize = 8;

/// A polyphase filter for a rational rate change `up / down`.
#[derive(Debug, Clone)]
pub(super) struct Polyphase {
    /// Taps in each branch (a multiple of [`LANES`]).
    pub(super) taps: usize,
    /// Group delay of the prototype in samples of the common rate; a multiple of
    /// `up * down`, so the latency is a whole number of samples at both rates.
    pub(super) delay: usize,
    /// `up` branches of `taps` coefficients, each stored oldest-sample-first so a branch
    /// is a plain dot product with a window of the input history.
    pub(super) coeffs: Vec<f32>,
}

impl Polyphase {
    /// Designs the filter for `up / down` (coprime) where `common_hz` is the input rate
    /// times `up` and `cutoff_hz` is the Nyquist frequency of the lower of the two rates.
    pub(super) fn design(up: usize, down: usize, common_hz: f64, cutoff_hz: f64) -> Self {
        let stop = cutoff_hz / common_hz;
        let pass = PASSBAND_FRACTION * stop;
        let width = stop - pass;
        // Kaiser's length estimate for the attenuation over this transition width.
        let needed = ((DESIGN_ATTENUATION_DB - 7.95) / (14.36 * width)).ceil() as usize + 1;
        // Grow the branch length until the longest symmetric filter that fits in
        // `up * taps` with a suitably aligned delay is at least as long as needed.
        let align = up * down;
        let mut taps = needed.div_ceil(up).next_multiple_of(LANES);
        let delay = loop {
            let delay = (up * taps - 1) / 2 / align * align;
            if 2 * delay + 1 >= needed {
                break delay;
            }
            taps += LANES;
        };
        let len = 2 * delay + 1;
        // Spend every tap that fits: a longer filter at the same width buys attenuation.
        let attenuation = (len - 1) as f64 * 14.36 * width + 7.95;
        let beta = 0.1102 * (attenuation - 8.7);
        let centre = (pass + stop) / 2.0;
        let prototype: Vec<f64> = (0..len)
            .map(|k| {
                let x = k as f64 - delay as f64;
                let r = x / delay as f64;
                sinc(2.0 * centre * x) * 2.0 * centre * kaiser(beta, r)
            })
            .collect();

        // Branch p computes outputs at phase p of the common rate from taps p, p + up, ...;
        // the newest input sample meets tap p, so storing the taps in reverse order puts
        // the coefficient for the oldest sample first.
        let mut coeffs = vec![0.0f32; up * taps];
        for phase in 0..up {
            let branch: Vec<f64> = (0..taps)
                .map(|m| {
                    prototype
                        .get(phase + (taps - 1 - m) * up)
                        .copied()
                        .unwrap_or(0.0)
                })
                .collect();
            // Unit DC gain per branch: a constant input gives a constant output, exactly
            // where the window would otherwise leave each branch a hair off.
            let gain: f64 = branch.iter().sum();
            for (c, b) in coeffs[phase * taps..(phase + 1) * taps]
                .iter_mut()
                .zip(&branch)
            {
                *c = (b / gain) as f32;
            }
        }
        Self {
            taps,
            delay,
            coeffs,
        }
    }

    /// The filter of a resampler between equal rates: passes the newest sample through.
    pub(super) fn identity() -> Self {
        let mut coeffs = vec![0.0; LANES];
        coeffs[LANES - 1] = 1.0;
        Self {
            taps: LANES,
            delay: 0,
            coeffs,
        }
    }

    /// The coefficients of branch `phase`, oldest sample first.
    #[inline]
    pub(super) fn branch(&self, phase: usize) -> &[f32] {
        &self.coeffs[phase * self.taps..(phase + 1) * self.taps]
    }
}

/// `sin(πx) / (πx)`.
fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// The Kaiser window at position `r` in [-1, 1].
fn kaiser(beta: f64, r: f64) -> f64 {
    bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
}

/// The modified Bessel function of the first kind, order zero, by its power series
/// (converges quickly for the β ≲ 15 a Kaiser window uses).
fn bessel_i0(x: f64) -> f64 {
    let quarter_x2 = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * 1e-17 {
        term *= quarter_x2 / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The dot product of a branch with an equally long window of history.
///
/// Eight independent accumulators become two SSE registers the compiler keeps busy
/// (measured: 4×4 accumulators were no faster). The fixed summation order keeps results
/// identical however the input was split into calls.
#[inline]
pub(super) fn dot(branch: &[f32], window: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (c, x) in branch.chunks_exact(LANES).zip(window.chunks_exact(LANES)) {
        for lane in 0..LANES {
            acc[lane] += c[lane] * x[lane];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_i0_matches_known_values() {
        // Abramowitz & Stegun table 9.8.
        assert!((bessel_i0(0.0) - 1.0).abs() < 1e-15);
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008).abs() < 1e-12);
        assert!((bessel_i0(10.0) - 2_815.716_628_466_254).abs() < 1e-8);
    }

    #[test]
    fn branches_have_unit_dc_gain_and_lane_sized_lengths() {
        // (up, down, input rate): 8→24, 24→8, 8→16, 16→8, 16→24, 24→16, 8→48 kHz.
        for (up, down, from) in [
            (3, 1, 8_000.0),
            (1, 3, 24_000.0),
            (2, 1, 8_000.0),
            (1, 2, 16_000.0),
            (3, 2, 16_000.0),
            (2, 3, 24_000.0),
            (6, 1, 8_000.0),
        ] {
            let to = from * up as f64 / down as f64;
            let f = Polyphase::design(up, down, from * up as f64, f64::min(from, to) / 2.0);
            assert_eq!(f.taps % LANES, 0);
            assert_eq!(f.delay % (up * down), 0);
            assert!(
                2 * f.delay < up * f.taps,
                "the prototype fits in the branches"
            );
            for phase in 0..up {
                let sum: f64 = f.branch(phase).iter().map(|&c| f64::from(c)).sum();
                assert!((sum - 1.0).abs() < 1e-5, "{up}/{down} phase {phase}: {sum}");
            }
        }
    }

    #[test]
    fn dot_matches_a_plain_sum() {
        let a: Vec<f32> = (0..24).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..24).map(|i| (i * i) as f32 / 100.0).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-4);
    }
}
